// Translations (locales/*.json) and locale-aware formatting.

let messages = {};
let fallback = {};
export let lang = "en";

export async function load(language) {
  const get = async (l) => (await fetch(`locales/${l}.json`)).json();
  if (!Object.keys(fallback).length) fallback = await get("en");
  lang = ["en", "lv", "zh", "fi", "sv"].includes(language) ? language : "en";
  messages = lang === "en" ? fallback : await get(lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) {  // a control shown as a symbol
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
}

// The message `key`, with {name} placeholders filled from `vars`.
export function t(key, vars = {}) {
  const text = messages[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
}

const locales = {en: "en-GB", lv: "lv-LV", zh: "zh-CN", fi: "fi-FI", sv: "sv-SE"};

// `key` for the count `n` by the language's plural rules (Intl.PluralRules:
// Latvian has zero, one and other; Chinese only other): the message
// "key.CATEGORY", else "key.other", with {n} the number in the locale.
export function plural(key, n, vars = {}) {
  const category = new Intl.PluralRules(locales[lang]).select(n);
  const chosen = (messages[`${key}.${category}`] ?? fallback[`${key}.${category}`]) !== undefined
    ? `${key}.${category}` : `${key}.other`;
  return t(chosen, {...vars, n: number(n)});
}
export function date(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locales[lang], {dateStyle: "medium", timeStyle: "short"}).format(new Date(iso));
}
export function day(ymd) {
  if (!ymd) return "";
  return new Intl.DateTimeFormat(locales[lang], {dateStyle: "long", timeZone: "UTC"}).format(new Date(ymd + "T00:00:00Z"));
}
export function number(n) { return new Intl.NumberFormat(locales[lang]).format(n); }
// Country calling codes of two digits (ITU-T E.164); others have one (1, 7) or three.
const twoDigit = new Set("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split(" "));
// E.164 "+37129112233" shown grouped: "+371 2911 2233".
export function phone(e164) {
  if (!/^\+\d{4,15}$/.test(e164 || "")) return e164 || "";
  const digits = e164.slice(1);
  const ccLen = "17".includes(digits[0]) ? 1 : twoDigit.has(digits.slice(0, 2)) ? 2 : 3;
  const rest = digits.slice(ccLen);
  return "+" + digits.slice(0, ccLen) + " " + rest.replace(/(\d{4})(?=\d)/g, "$1 ");
}
