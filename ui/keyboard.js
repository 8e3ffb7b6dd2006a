// The on-screen keyboard: for the kiosk's touch screen (always on) and for a
// handheld's associate on demand. It types into the focused field: letters in
// the screens' language (Latvian and the Nordic letters as keys of their own),
// Chinese by pinyin with a candidate list (pinyin.json, README "Pinyin data"),
// an email layout with @ and domain keys, a phone keypad. It never covers the
// field being typed: the page gains room below and scrolls the field above it.
//
// Why by hand: no keyboard exists in the browser the terminal runs (a kiosk
// has no system one), and the screens carry no runtime dependency.

import * as i18n from "./i18n.js";

const t = i18n.t;

const LETTERS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
// The letters each language adds as keys of their own, in the rows they sit on.
const EXTRA = {
  lv: {top: "āčēģīķļņšūž"},
  fi: {rows: ["å", "öä", ""]},
  sv: {rows: ["å", "öä", ""]},
};
// Domains offered on the email layout, by the screens' language: its country's first.
const DOMAINS = {en: [".com", ".co.uk"], lv: [".lv", ".com"], fi: [".fi", ".com"], sv: [".se", ".com"], zh: [".cn", ".com"]};
const PAGE = 8;  // candidates shown at once

const kb = {
  enabled: false,   // shows on focus of a text field
  target: null,     // the field typed into
  layout: "",       // "text", "email", "phone"
  shift: false,
  latin: false,     // Chinese layout typing Latin letters instead of pinyin
  composing: "",    // pinyin typed, not yet turned into characters
  page: 0,
  panel: null,
  pinyin: null,     // pinyin.json once loaded
};

// Whether `el` is a field the keyboard types into.
function typable(el) {
  return el instanceof HTMLInputElement && !el.readOnly && !el.disabled &&
         ["text", "email", "tel", "search", "number", "password"].includes(el.type);
}

function layoutFor(el) {
  if (el.type === "email") return "email";
  if (el.type === "tel" || el.type === "number" || el.inputMode === "numeric") return "phone";
  return "text";
}

// Turns the keyboard on (shown whenever a text field has focus) or off.
export function enable(on) {
  kb.enabled = on;
  if (!on) hide();
  else if (typable(document.activeElement)) open(document.activeElement);
}
export function enabled() { return kb.enabled; }

function open(el) {
  if (kb.target !== el) {
    kb.composing = "";
    kb.page = 0;
    kb.latin = false;
  }
  kb.target = el;
  kb.layout = layoutFor(el);
  kb.shift = autoShift(el);
  if (i18n.lang === "zh" && kb.layout === "text" && !kb.pinyin) loadPinyin();
  render();
  // A tap places the caret after the focus moves: the word start is judged there.
  setTimeout(() => {
    if (kb.target === el && kb.shift !== autoShift(el)) {
      kb.shift = autoShift(el);
      render();
    }
  }, 0);
}

export function hide() {
  kb.target = null;
  kb.composing = "";
  if (kb.panel) kb.panel.hidden = true;
  document.body.style.paddingBottom = "";
  document.body.classList.remove("keyboard-open");
}

async function loadPinyin() {
  try {
    kb.pinyin = await (await fetch("pinyin.json")).json();
  } catch (e) {
    kb.pinyin = {syllables: {}, surnames: "", compounds: {}};
  }
  if (kb.target) render();
}

// A name's field starts each word with a capital (autocapitalize="words").
function autoShift(el) {
  if (el.getAttribute("autocapitalize") !== "words") return false;
  const before = el.value.slice(0, caret(el)[0]);
  return before === "" || /[\s-]$/.test(before);
}

// The selection in `el` ([start, end]); the end of its text where the input
// type has none (email and number fields).
function caret(el) {
  let start = null, end = null;
  try { start = el.selectionStart; end = el.selectionEnd; } catch (e) { /* no selection API */ }
  return start === null ? [el.value.length, el.value.length] : [start, end];
}

function insert(text) {
  const el = kb.target;
  if (!el) return;
  const [start, end] = caret(el);
  el.value = el.value.slice(0, start) + text + el.value.slice(end);
  try { el.setSelectionRange(start + text.length, start + text.length); } catch (e) { /* no selection API */ }
  el.dispatchEvent(new Event("input", {bubbles: true}));
  kb.shift = autoShift(el);  // shift is one key press, or a word's start
}

function backspace() {
  const el = kb.target;
  if (!el) return;
  const [start, end] = caret(el);
  if (start === end && start === 0) return;
  const from = start === end ? start - [...el.value.slice(0, start)].slice(-1)[0].length : start;
  el.value = el.value.slice(0, from) + el.value.slice(end);
  try { el.setSelectionRange(from, from); } catch (e) { /* no selection API */ }
  el.dispatchEvent(new Event("input", {bubbles: true}));
}

// The next field of the form, else the keyboard closes.
function next() {
  const el = kb.target;
  const fields = [...(el?.form || document).querySelectorAll("input")].filter((f) => typable(f) && f.offsetParent !== null);
  const after = fields[fields.indexOf(el) + 1];
  if (after) after.focus();
  else { el?.blur(); hide(); }
}

// ---- pinyin -----------------------------------------------------------------------

// The characters the typed pinyin may stand for, each with how many of its
// letters it uses: a compound surname the whole of it spells ("ouyang" 欧阳),
// then the characters of the longest whole syllable it starts with (so
// "wangxiao" offers 王 and leaves "xiao"), or, while a syllable is unfinished
// ("zh"), the characters of every syllable it begins, most frequent first.
function candidates(typed) {
  const p = kb.pinyin;
  if (!p || !typed) return [];
  const surnameFirst = kb.target?.dataset.field === "last_name";
  const order = (chars) => surnameFirst
    ? chars.filter((c) => p.surnames.includes(c)).concat(chars.filter((c) => !p.surnames.includes(c)))
    : chars;
  const out = (p.compounds[typed] || []).map((text) => ({text, uses: typed.length}));
  for (let n = typed.length; n > 0; n--) {
    const whole = p.syllables[typed.slice(0, n)];
    if (whole) return out.concat(order([...whole]).map((text) => ({text, uses: n})));
  }
  const begun = Object.keys(p.syllables).filter((s) => s.startsWith(typed)).map((s) => [...p.syllables[s]]);
  const mixed = [];
  for (let i = 0; mixed.length < 400 && begun.some((chars) => chars.length > i); i++) {
    for (const chars of begun) if (chars[i]) mixed.push(chars[i]);
  }
  return out.concat(order(mixed).map((text) => ({text, uses: typed.length})));
}

function choose({text, uses}) {
  kb.composing = kb.composing.slice(uses);
  kb.page = 0;
  insert(text);
}

// ---- drawing ----------------------------------------------------------------------

function key(label, action, attrs = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "key" + (attrs.wide ? " wide" : "") + (attrs.class ? " " + attrs.class : "");
  b.textContent = label;
  if (attrs.name) b.setAttribute("aria-label", attrs.name);
  if (attrs.pressed !== undefined) b.setAttribute("aria-pressed", String(attrs.pressed));
  if (attrs.testid) b.dataset.testid = attrs.testid;
  b.dataset.key = attrs.key ?? label;
  b.addEventListener("click", () => {
    action();
    if (kb.target) {
      kb.target.focus({preventScroll: true});
      render();
    }
  });
  return b;
}

function row(...keys) {
  const r = document.createElement("div");
  r.className = "keys";
  r.append(...keys);
  return r;
}

function letterKey(ch) {
  const shown = kb.shift && !pinyinMode() ? ch.toLocaleUpperCase(i18n.lang) : ch;
  return key(shown, () => {
    if (pinyinMode()) {
      kb.composing += ch;
      kb.page = 0;
      return;
    }
    insert(shown);
  }, {key: ch});
}

function pinyinMode() { return i18n.lang === "zh" && kb.layout === "text" && !kb.latin; }

const special = {
  shift: () => key("⇧", () => { kb.shift = !kb.shift; }, {name: t("keyboard.shift"), pressed: kb.shift, key: "shift", wide: true}),
  backspace: () => key("⌫", () => {
    if (kb.composing) { kb.composing = kb.composing.slice(0, -1); kb.page = 0; } else backspace();
  }, {name: t("keyboard.backspace"), key: "backspace", wide: true}),
  space: () => key(t("keyboard.space"), () => {
    const first = candidates(kb.composing)[0];
    if (first) choose(first);
    else insert(" ");
  }, {key: "space", class: "space"}),
  next: () => key(t("keyboard.next"), next, {key: "next", wide: true, testid: "keyboard-next"}),
  hide: () => key("⌄", () => { kb.target?.blur(); hide(); }, {name: t("keyboard.hide"), key: "hide"}),
};

function textRows() {
  const extra = EXTRA[i18n.lang] || {};
  const rows = LETTERS.map((letters, i) => [...letters + (extra.rows ? extra.rows[i] : "")].map(letterKey));
  rows[2] = [special.shift(), ...rows[2], special.backspace()];
  const out = [];
  if (extra.top) out.push(row(...[...extra.top].map(letterKey)));
  out.push(...rows.map((r) => row(...r)));
  const bottom = [key("-", () => insert("-")), key("'", () => insert("'")), special.space(), key(".", () => insert("."))];
  if (i18n.lang === "zh") {
    bottom.unshift(key(kb.latin ? "拼" : "ABC", () => { kb.latin = !kb.latin; kb.composing = ""; },
                       {name: kb.latin ? t("keyboard.pinyin") : t("keyboard.latin"), key: "latin", pressed: kb.latin}));
  }
  out.push(row(...bottom, special.next(), special.hide()));
  return out;
}

function emailRows() {
  const domains = DOMAINS[i18n.lang] || DOMAINS.en;
  return [
    row(...[..."1234567890"].map((d) => key(d, () => insert(d)))),
    ...LETTERS.map((letters, i) => row(...[...letters].map((ch) => key(ch, () => insert(ch))),
                                       ...(i === 2 ? [special.backspace()] : []))),
    row(key("@", () => insert("@")), key(".", () => insert(".")), key("-", () => insert("-")), key("_", () => insert("_")),
        ...domains.map((d) => key(d, () => insert(d), {wide: true})), special.next(), special.hide()),
  ];
}

function phoneRows() {
  return [
    row(...[..."123"].map((d) => key(d, () => insert(d)))),
    row(...[..."456"].map((d) => key(d, () => insert(d)))),
    row(...[..."789"].map((d) => key(d, () => insert(d)))),
    row(key("+", () => insert("+")), key("0", () => insert("0")), special.backspace()),
    row(special.next(), special.hide()),
  ];
}

function candidateBar() {
  const bar = document.createElement("div");
  bar.className = "candidates";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", t("keyboard.candidates"));
  const typed = document.createElement("span");
  typed.className = "composing";
  typed.dataset.testid = "composing";
  typed.textContent = kb.composing;
  bar.append(typed);
  const all = candidates(kb.composing);
  for (const c of all.slice(kb.page * PAGE, (kb.page + 1) * PAGE)) {
    bar.append(key(c.text, () => choose(c), {class: "candidate", key: "candidate"}));
  }
  if (kb.page > 0) bar.append(key("‹", () => { kb.page -= 1; }, {name: t("keyboard.previous"), key: "previous"}));
  if (all.length > (kb.page + 1) * PAGE) bar.append(key("›", () => { kb.page += 1; }, {name: t("keyboard.more"), key: "more"}));
  return bar;
}

function render() {
  if (!kb.panel) {
    kb.panel = document.createElement("div");
    kb.panel.className = "keyboard";
    kb.panel.dataset.testid = "keyboard";
    kb.panel.setAttribute("role", "group");
    // Keys never take the focus from the field they type into.
    kb.panel.addEventListener("mousedown", (e) => e.preventDefault());
    document.body.append(kb.panel);
  }
  kb.panel.setAttribute("aria-label", t("keyboard.label"));
  kb.panel.dataset.layout = kb.layout === "text" ? "text-" + i18n.lang : kb.layout;
  const rows = kb.layout === "email" ? emailRows() : kb.layout === "phone" ? phoneRows() : textRows();
  kb.panel.replaceChildren(...(pinyinMode() ? [candidateBar()] : []), ...rows);
  kb.panel.hidden = false;
  document.body.classList.add("keyboard-open");
  uncover();
}

// Room below the page for the keyboard, and the field scrolled above it.
function uncover() {
  const height = kb.panel.getBoundingClientRect().height;
  document.body.style.paddingBottom = height + "px";
  const el = kb.target;
  if (!el) return;
  const field = el.getBoundingClientRect();
  const top = window.innerHeight - height;
  if (field.bottom > top - 8) window.scrollBy(0, field.bottom - top + 16);
  else if (field.top < 0) window.scrollBy(0, field.top - 16);
}

document.addEventListener("focusin", (e) => {
  if (kb.enabled && typable(e.target)) open(e.target);
});
// Focus leaving the fields for anything but a key closes the keyboard.
document.addEventListener("focusout", () => {
  setTimeout(() => {
    const now = document.activeElement;
    if (kb.target && !typable(now) && !kb.panel?.contains(now)) hide();
  }, 0);
});
window.addEventListener("resize", () => { if (kb.target && kb.panel && !kb.panel.hidden) uncover(); });
