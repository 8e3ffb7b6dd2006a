// kassa's terminal screens: sign-in, search, new and edit customer, customer
// details with card and timeline, client book. Plain ES modules, no build
// step: the browser loads these files from kassad as they are.

import {api, onEvent, onLocked, onSessionEnded, setToken, signedIn, startEvents} from "./api.js";
import * as i18n from "./i18n.js";
import * as keyboard from "./keyboard.js";

const t = i18n.t;
const view = document.getElementById("view");
const state = {operator: null, store: null, clienteling: null, idleTimer: 0, pendingOnScreen: ""};

// ---- small DOM helpers ---------------------------------------------------------

// h("button", {class: "x", onclick: f}, "text", child...): text is always text, never HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Shows `nodes` (null ones left out: a section with nothing to show) as the view.
function show(...nodes) {
  view.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  const first = view.querySelector("[autofocus]");
  (first || view).focus();
}

function can(permission) { return !!state.operator && state.operator.permissions.includes(permission); }

// A server's "field: message" in the operator's language when it is one we
// know (else as the server said it).
function reasonText(full, fallback = full) {
  const known = t("err." + full);
  return known !== "err." + full ? known : fallback;
}

// An API error's message in the operator's language when it is one we know.
function message(err) {
  if (!err || !err.error) return t("error.unknown");
  const e = err.error;
  return reasonText(e.field ? `${e.field}: ${e.message}` : e.message, e.message);
}

// Puts an API error beside its field in `form` (or at the form's top).
function showError(form, err) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
  const field = err && err.error ? err.error.field || "" : "";
  let target = field && (form.querySelector(`[data-field="${field}"]`) ||
                         form.querySelector(`[data-field="${field.split(".")[0]}"]`));
  const note = h("p", {class: "field-error", role: "alert", "data-testid": "error"}, message(err));
  if (target) {
    target.setAttribute("aria-invalid", "true");
    target.closest("label, fieldset, .row")?.append(note);
    target.focus();
  } else {
    form.prepend(note);
  }
}

// ---- status bar ----------------------------------------------------------------

async function refreshStatus() {
  const {status, body} = await api("GET", "/v1/sync");
  // A disk that keeps failing writes (or a store that cannot be reopened,
  // answered 503 "storage failing"): said on every screen, as nothing new is saved.
  const failing = status === 200 ? body.storage?.state === "failing"
    : status === 503 && String(body?.error?.message || "").startsWith("storage failing");
  const storage = document.getElementById("storage");
  storage.hidden = !failing;
  storage.textContent = failing ? t("status.storage_failing") : "";
  if (status !== 200) return;
  if (state.sealed) checkAccess();  // unlocked: back to the screens
  const link = document.getElementById("link");
  link.textContent = body.online ? t("status.online") : t("status.offline");
  link.className = "chip " + (body.online ? "ok" : "warn");
  document.getElementById("mode").textContent = t("mode." + body.effective_mode);
  document.getElementById("outbox").textContent = t("status.waiting", {n: i18n.number(body.outbox.length)});
  // Operations headquarters rejected: a link to the list where they are fixed.
  const attention = document.getElementById("attention-link");
  attention.hidden = !body.quarantined;
  attention.textContent = body.quarantined ? t("nav.attention", {n: i18n.number(body.quarantined)}) : "";
}

async function refreshDevices() {
  const {status, body} = await api("GET", "/v1/devices");
  if (status !== 200) return;
  const parts = Object.entries(body.devices).map(([name, s]) =>
    `${t("device." + name)}: ${s.state === "fault" ? s.detail : t("state." + s.state)}`);
  document.getElementById("devices").textContent = parts.join(" · ") || t("device.none");
}

// ---- a terminal that serves no customer data -------------------------------------

// Whether the terminal serves customer data (GET /v1/status "access"); when
// it does not (locked after too long offline, or wiped by headquarters) every
// screen gives way to one that says so, and the session ends.
async function checkAccess() {
  const {status, body} = await api("GET", "/v1/status");
  if (status !== 200 || !body || !body.access) return true;
  if (body.access.state === "open") {
    if (state.sealed) {
      state.sealed = null;
      route();
    }
    return true;
  }
  sealedView(body.access, body.outbox);
  return false;
}

function sealedView(access, outbox) {
  state.sealed = access.state;
  setToken("");
  state.operator = null;
  state.kiosk = false;
  document.body.classList.remove("kiosk");
  keyboard.hide();
  staffChrome(false);
  const since = i18n.date(access.since);
  show(h("section", {class: "sealed", role: "alert", "data-testid": "sealed", "data-state": access.state},
         h("h1", {}, t(`sealed.${access.state}.title`)),
         h("p", {}, t(`sealed.${access.state}.text`, {since})),
         outbox ? h("p", {}, t("sealed.outbox", {n: i18n.number(outbox.length)})) : null,
         h("p", {class: "detail"}, access.reason)));
}

// ---- sign-in and idle lock -----------------------------------------------------

// The staff's bar (navigation, sync and device status, who is signed in):
// shown only to a signed-in associate, never on the sign-in or sealed screens.
function staffChrome(visible) {
  document.getElementById("who").textContent = visible ? `${state.operator.name} (${state.operator.role})` : "";
  for (const id of ["signout", "nav", "status"]) document.getElementById(id).hidden = !visible;
}

function resetIdle() {
  clearTimeout(state.idleTimer);
  // Kiosk mode stays signed in (staff put it there); it keeps its session alive.
  if (!state.operator || document.body.classList.contains("kiosk")) return;
  state.idleTimer = setTimeout(() => signOut("signin.idle"), (state.idleSeconds || 300) * 1000);
}

async function signOut(reason) {
  if (signedIn()) await api("DELETE", "/v1/session");
  setToken("");
  state.operator = null;
  state.kiosk = false;
  staffChrome(false);
  location.hash = "#/signin";
  route(reason);
}

async function afterSignIn(body) {
  setToken(body.token);
  state.operator = body.operator;
  state.idleSeconds = body.idle_timeout_s;
  await loadContext();
  location.hash = "#/search";
}

async function loadContext() {
  const me = await api("GET", "/v1/session");
  if (me.status !== 200) return false;
  state.operator = me.body.operator;
  state.kiosk = me.body.kind === "kiosk";
  if (state.kiosk) {
    state.store = (await api("GET", "/v1/store")).body;
    await loadConsentTexts();
    return true;
  }
  state.idleSeconds = me.body.idle_timeout_s;
  state.store = (await api("GET", "/v1/store")).body;
  state.clienteling = (await api("GET", "/v1/clienteling")).body;
  await loadConsentTexts();
  staffChrome(true);
  const preferred = localStorage.getItem("kassa.lang." + state.operator.worker_id) ||
                    localStorage.getItem("kassa.lang") || (state.store && state.store.default_customer.language);
  if (preferred && preferred !== i18n.lang) await setLanguage(preferred, false);
  resetIdle();
  return true;
}

function signInView(reason) {
  staffChrome(false);
  const error = h("p", {class: "field-error", role: "alert", hidden: true, "data-testid": "error"});
  const worker = h("input", {id: "worker", name: "worker", autocomplete: "username", required: true, autofocus: true,
                             "data-field": "worker_id"});
  const pin = h("input", {id: "pin", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off",
                          required: true, "data-field": "pin"});
  const form = h("form", {class: "card narrow", "aria-labelledby": "signin-title", onsubmit: async (e) => {
    e.preventDefault();
    const {status, body} = await api("POST", "/v1/session", {worker_id: worker.value.trim(), pin: pin.value});
    if (status === 201) return afterSignIn(body);
    pin.value = "";
    error.hidden = false;
    error.textContent = message(body);
  }},
  h("h1", {id: "signin-title"}, t("signin.title")),
  reason ? h("p", {class: "note"}, t(reason)) : null,
  h("label", {for: "worker"}, t("signin.worker")), worker,
  h("label", {for: "pin"}, t("signin.pin")), pin,
  error,
  h("button", {type: "submit", class: "primary", "data-testid": "signin"}, t("signin.submit")),
  h("p", {class: "hint"}, t("signin.badge")));
  show(form);
  state.badgeError = error;
  // The card reader signs in server-side: this screen holds a swipe ticket
  // and redeems it when a swipe completes it (the badge never reaches here).
  // A swipe completes the newest ticket, so screens drawn at once (a
  // sign-out's route and its hash change) share one request, never race two.
  if (state.swipeOpening) return;
  state.swipeTicket = null;
  state.swipeOpening = api("POST", "/v1/session/swipe").then(({status, body}) => {
    if (status === 201) state.swipeTicket = body.ticket;
  }).finally(() => { state.swipeOpening = null; });
}

// ---- search --------------------------------------------------------------------

function searchView(query = "") {
  const box = h("input", {type: "search", id: "q", autofocus: true, value: query, "data-testid": "search-box",
                          "aria-label": t("search.label"), placeholder: t("search.placeholder")});
  const results = h("ul", {class: "results", "aria-live": "polite", "data-testid": "results"});
  // The whole chain at headquarters (online only) instead of this terminal's store.
  const chain = h("input", {type: "checkbox", id: "search-chain", "data-testid": "search-chain"});
  const run = async () => {
    const q = box.value.trim();
    if (!q) return results.replaceChildren();
    const scope = chain.checked ? "&scope=chain" : "";
    const {status, body} = await api("GET", "/v1/customers?limit=20&q=" + encodeURIComponent(q) + scope);
    if (status !== 200) return results.replaceChildren(h("li", {class: "field-error", role: "alert"}, message(body)));
    if (!body.results.length) return results.replaceChildren(h("li", {class: "empty"}, t("search.none")));
    results.replaceChildren(...body.results.map((r) => h("li", {},
      h("a", {href: "#/customer/" + r.customer.id, "data-testid": "result"},
        h("strong", {}, r.customer.name), " ",
        h("span", {class: "account"}, r.customer.pending ? t("customer.pending") : r.customer.account),
        r.matched ? h("span", {class: "why"}, t("matched", {field: t("field." + r.matched)}))
                  : h("span", {class: "why"}, [i18n.phone(r.customer.phone), r.customer.email].filter(Boolean).join(" · "))))));
  };
  state.runSearch = (code) => { box.value = code; run(); };
  chain.addEventListener("change", run);
  const form = h("form", {role: "search", onsubmit: (e) => { e.preventDefault(); run(); }},
    box, h("button", {type: "submit", class: "primary"}, t("search.go")),
    h("label", {class: "switch", for: "search-chain"}, chain, h("span", {}, t("search.chain"))));
  const appbar = h("div", {class: "appbar"}, h("h1", {}, t("search.title")),
    can("create_customer") ? h("button", {type: "button", "data-testid": "create-from-search",
      onclick: () => { location.hash = "#/new?from=search&q=" + encodeURIComponent(box.value.trim()); }},
      t("search.create")) : null);
  show(appbar, form, results);
  if (query) run();
}

// ---- new and edit customer -----------------------------------------------------

function attributeInput(def, value) {
  const id = "attr-" + def.name;
  const common = {id, name: def.name, "data-field": "attributes." + def.name, "data-attr": def.name};
  let input;
  if (def.type === "choice") {
    input = h("select", common, h("option", {value: ""}, "—"),
              ...def.choices.map((c) => h("option", {value: c, selected: c === value}, c)));
  } else if (def.type === "yes_no") {
    input = h("select", common, h("option", {value: ""}, "—"),
              h("option", {value: "yes", selected: value === "yes"}, t("yes")),
              h("option", {value: "no", selected: value === "no"}, t("no")));
  } else {
    const type = def.type === "date" ? "date" : def.type === "number" || def.type === "decimal" ? "number" : "text";
    input = h("input", {...common, type, value: value || "", step: def.type === "decimal" ? "0.0001" : undefined});
  }
  return h("label", {class: "row", for: id}, h("span", {}, def.label || def.name), input);
}

// The marketing consent text of `kind` ("email" or "phone") a customer is
// shown or read in `language` (else the screens' language): the newest one
// headquarters published, else the screens' own. Its `reference`
// ("2026-11/lv") is recorded with every consent given.
function consentText(kind, language) {
  const published = (lang) => (state.consentTexts || []).filter((x) => x.id === "marketing-" + kind && x.language === lang)
    .sort((a, b) => (a.version < b.version ? 1 : -1))[0];
  const found = published(language) || published(i18n.lang);
  return found ? {text: found.text, reference: found.reference}
               : {text: t("kiosk.consent." + kind), reference: `${t("kiosk.consent.version")}/${i18n.lang}`};
}

// The switch of the primary email's or phone's marketing consent, with the
// text the associate reads to the customer (in the customer's language).
function primaryConsent(kind, granted, language) {
  const text = consentText(kind, language);
  return h("div", {class: "consent row"},
    h("label", {class: "switch"},
      h("input", {type: "checkbox", role: "switch", checked: granted, "data-consent": kind,
                  "aria-label": t("form.consent") + " (" + t("form." + kind) + ")"}),
      h("span", {}, t("form.consent"))),
    h("small", {class: "note", "data-testid": "consent-text-" + kind},
      text.text, " ", t("kiosk.consent.versionlabel", {version: text.reference})));
}

// A customer as the form holds it: every member the API has, in the API's
// shape (consents as booleans), so what the associate changed is one
// comparison away and nothing the API holds is dropped by the form.
const ADDRESS_TEXT = ["street", "city", "postal_code", "region", "country", "contact_name", "contact_phone"];
function formModel(c) {
  const text = (v) => v || "";
  const contacts = (list) => (list || []).map((x) => ({value: x.value, consent: !!x.consent?.granted}));
  return {
    type: c.type, first_name: text(c.first_name), last_name: text(c.last_name),
    organization_name: text(c.organization_name),
    email: text(c.email), email_consent: !!c.email_consent?.granted,
    phone: text(c.phone), phone_consent: !!c.phone_consent?.granted,
    secondary_emails: contacts(c.secondary_emails), secondary_phones: contacts(c.secondary_phones),
    addresses: (c.addresses || []).map((a) => ({purpose: a.purpose, ...Object.fromEntries(ADDRESS_TEXT.map((f) => [f, text(a[f])]))})),
    customer_group: c.customer_group, receipt_preference: c.receipt_preference, receipt_email: text(c.receipt_email),
    currency: text(c.currency), language: text(c.language), affiliations: [...(c.affiliations || [])],
    loyalty_cards: [...(c.loyalty_cards || [])], attributes: (c.attributes || []).map((a) => ({name: a.name, value: a.value})),
  };
}

// Members a creation always sends: the store's defaults the form shows, so
// that an associate who clears one is not overruled by the default.
const DEFAULTED = new Set(["type", "customer_group", "receipt_preference", "currency", "language", "affiliations"]);

// The request body: on an edit only the members the associate changed (a
// list whole, as the API replaces lists), so whatever they did not touch is
// never written; on a creation every member given. A primary contact's
// consent goes with it when the contact or the switch changed (kassa keeps
// the original stamp while neither does).
function customerBody(before, after, creating) {
  // A consent given records the text it was given to, in the customer's language.
  const version = (kind) => consentText(kind, after.language).reference;
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const empty = (v) => v === "" || (Array.isArray(v) && v.length === 0);
  const body = {};
  for (const [k, value] of Object.entries(after)) {
    if (k.endsWith("_consent")) continue;
    if (creating ? DEFAULTED.has(k) || !empty(value) : !same(value, before[k])) body[k] = value;
  }
  for (const f of ["email", "phone"]) {
    const changed = after[f] !== before[f] || after[f + "_consent"] !== before[f + "_consent"];
    if (after[f] && (creating || changed)) {
      body[f + "_consent"] = after[f + "_consent"] ? {granted: true, text_version: version(f)} : {granted: false};
    }
  }
  for (const [f, kind] of [["secondary_emails", "email"], ["secondary_phones", "phone"]]) {
    if (body[f]) body[f] = body[f].map((x) => (x.consent ? {...x, consent_text_version: version(kind)} : x));
  }
  return body;
}

function removeButton(label, target) {
  return h("button", {type: "button", class: "remove", "aria-label": label, onclick: () => target.remove()}, t("form.remove"));
}

function contactRows(kind, list) {
  const rows = h("div", {class: "contacts", "data-field": kind});
  const add = (value = "", consent = false) => {
    const row = h("div", {class: "row contact", "data-contact-row": kind});
    row.append(h("input", {type: kind === "secondary_emails" ? "email" : "tel", value, "aria-label": t("form." + kind),
                           "data-contact": kind}),
               h("label", {class: "switch"}, h("input", {type: "checkbox", role: "switch", checked: consent, "data-consent": kind}),
                 h("span", {}, t("form.consent"))),
               removeButton(`${t("form.remove")}: ${t("form." + kind)}`, row));
    rows.append(row);
  };
  for (const c of list) add(c.value, c.consent);
  return h("fieldset", {}, h("legend", {}, t("form." + kind)), rows,
           h("button", {type: "button", onclick: () => add()}, t("form.add." + kind)));
}

// Every address with every member; a new one (`fresh`) left blank is not sent.
let addressCount = 0;
function addressBlock(a, fresh, typeNow) {
  const n = addressCount++;
  const purpose = h("select", {id: `f-purpose-${n}`, "data-part": "purpose", "data-field": "addresses.purpose"},
    ...["home", "business", "office", "post_box"].map((p) => h("option", {value: p, selected: p === a.purpose}, t("purpose." + p))));
  // A new address's purpose follows the type until someone picks one (Home for a person, Business otherwise).
  if (fresh) {
    purpose.addEventListener("change", () => { block.dataset.picked = "true"; });
    if (!a.purpose) purpose.value = typeNow() === "organization" ? "business" : "home";
  }
  const block = h("fieldset", {"data-address": "", "data-fresh": fresh ? "true" : undefined},
    h("legend", {}, t("form.address")),
    h("label", {class: "row", for: `f-purpose-${n}`}, h("span", {}, t("form.purpose")), purpose),
    ...ADDRESS_TEXT.map((f) => h("label", {class: "row", for: `f-${f}-${n}`}, h("span", {}, t("form." + f)),
      h("input", {id: `f-${f}-${n}`, "data-part": f, "data-field": "addresses." + f, value: a[f] || "",
                  type: f === "contact_phone" ? "tel" : "text", maxlength: f === "country" ? 2 : undefined}))));
  block.append(h("div", {class: "actions"}, removeButton(t("form.remove.address"), block)));
  return block;
}

function readAddresses(form) {
  return [...form.querySelectorAll("[data-address]")].flatMap((block) => {
    const part = (f) => block.querySelector(`[data-part="${f}"]`).value.trim();
    const a = {purpose: part("purpose"), ...Object.fromEntries(ADDRESS_TEXT.map((f) => [f, part(f)]))};
    a.country = a.country.toUpperCase();
    const blank = ADDRESS_TEXT.every((f) => f === "country" || !a[f]);
    return block.dataset.fresh && blank ? [] : [a];
  });
}

let cardCount = 0;
function cardRow(value) {
  const n = cardCount++;
  const row = h("div", {class: "row contact"},
    h("input", {id: `f-loyalty_card-${n}`, value, "data-card": "", "data-field": "loyalty_cards",
                "aria-label": t("form.loyalty_card")}));
  row.append(removeButton(`${t("form.remove")}: ${t("form.loyalty_card")}`, row));
  return row;
}

// `rejected`: a quarantine entry whose creation the form fixes and sends again
// (`existing` is its customer, as it stands here).
function customerForm(existing, rejected = null) {
  addressCount = 0;
  cardCount = 0;
  const d = state.store.default_customer;
  const before = formModel(existing || {type: d.type, customer_group: d.customer_group,
                                        receipt_preference: d.receipt_preference, currency: d.currency,
                                        language: d.language, affiliations: d.affiliations});
  const input = (name, value = "", type = "text", extra = {}) =>
    h("label", {class: "row", for: "f-" + name}, h("span", {}, t("form." + name)),
      h("input", {id: "f-" + name, name, type, value: value || "", "data-field": name, ...extra}));
  const select = (name, options, value) =>
    h("label", {class: "row", for: "f-" + name}, h("span", {}, t("form." + name)),
      h("select", {id: "f-" + name, name, "data-field": name},
        ...options.map(([v, label]) => h("option", {value: v, selected: v === value}, label))));
  const attrs = [...(state.clienteling?.attributes || [])].sort((a, b) => a.display_order - b.display_order);
  const valueOf = (name) => (before.attributes.find((a) => a.name === name) || {}).value;
  const typeNow = () => form.querySelector('[name="type"]').value;
  const addresses = h("div", {"data-field": "addresses"});
  const addAddress = () => addresses.append(addressBlock({country: state.store.operating_unit_country}, true, typeNow));
  const cards = h("div", {class: "contacts"});
  let confirmDuplicates = false;  // the next submit creates despite likely duplicates
  const form = h("form", {class: "card", "data-testid": "customer-form", novalidate: true},
    h("h1", {}, rejected ? t("form.resend") : existing ? t("form.edit") : t("form.new")),
    rejected ? h("p", {class: "field-error", role: "alert", "data-testid": "rejected-reason"},
                 t("attention.reason", {reason: reasonText(rejected.reason)})) : null,
    select("type", [["person", t("type.person")], ["organization", t("type.organization")]], before.type),
    input("first_name", before.first_name, "text", {autofocus: true}),
    input("last_name", before.last_name),
    input("organization_name", before.organization_name),
    input("email", before.email, "email"), primaryConsent("email", before.email_consent, before.language),
    input("phone", before.phone, "tel"), primaryConsent("phone", before.phone_consent, before.language),
    contactRows("secondary_emails", before.secondary_emails),
    contactRows("secondary_phones", before.secondary_phones),
    addresses,
    h("div", {class: "actions"}, h("button", {type: "button", "data-testid": "add-address", onclick: addAddress},
                                   t("form.add.address"))),
    select("customer_group", state.store.customer_groups.map((g) => [g.id, g.name]), before.customer_group),
    select("receipt_preference", ["print", "email", "print_and_email", "none"].map((p) => [p, t("receipt." + p)]),
           before.receipt_preference),
    input("receipt_email", before.receipt_email, "email"),
    !existing && d.receipt_email ? h("p", {class: "hint"}, t("form.receipt_email.default", {email: d.receipt_email})) : null,
    input("currency", before.currency, "text", {maxlength: 3}),
    input("language", before.language),
    h("fieldset", {"data-field": "loyalty_cards"}, h("legend", {}, t("customer.cards")), cards,
      h("button", {type: "button", "data-testid": "add-card", onclick: () => cards.append(cardRow(""))},
        t("form.add.loyalty_card"))),
    input("affiliations", before.affiliations.join(", ")),
    attrs.length ? h("fieldset", {"data-field": "attributes"}, h("legend", {}, t("form.attributes")),
                     ...attrs.map((def) => attributeInput(def, valueOf(def.name)))) : null,
    h("div", {class: "actions", "data-form-actions": ""},
      h("button", {type: "submit", class: "primary", "data-testid": "save"}, t("form.save")),
      h("button", {type: "button", onclick: () => history.back()}, t("form.cancel"))));
  for (const a of before.addresses) addresses.append(addressBlock(a, false, typeNow));
  if (!existing) addAddress();
  for (const card of before.loyalty_cards) cards.append(cardRow(card));
  if (!existing) cards.append(cardRow(state.newCard || ""));
  form.querySelector('[name="type"]').addEventListener("change", (e) => {
    for (const block of addresses.querySelectorAll("[data-fresh]:not([data-picked])")) {
      block.querySelector('[data-part="purpose"]').value = e.target.value === "organization" ? "business" : "home";
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (name) => form.querySelector(`[name="${name}"]`).value.trim();
    const after = {
      type: v("type"), first_name: v("first_name"), last_name: v("last_name"), organization_name: v("organization_name"),
      email: v("email"), email_consent: form.querySelector('[data-consent="email"]').checked,
      phone: v("phone"), phone_consent: form.querySelector('[data-consent="phone"]').checked,
    };
    for (const kind of ["secondary_emails", "secondary_phones"]) {
      after[kind] = [...form.querySelectorAll(`[data-contact-row="${kind}"]`)].map((row) => ({
        value: row.querySelector("[data-contact]").value.trim(), consent: row.querySelector("[data-consent]").checked}))
        .filter((x) => x.value);
    }
    after.addresses = readAddresses(form);
    Object.assign(after, {customer_group: v("customer_group"), receipt_preference: v("receipt_preference"),
                          receipt_email: v("receipt_email"), currency: v("currency"), language: v("language")});
    after.affiliations = v("affiliations").split(",").map((a) => a.trim()).filter(Boolean);
    after.loyalty_cards = [...form.querySelectorAll("[data-card]")].map((el) => el.value.trim()).filter(Boolean);
    // The attributes the form shows replace theirs; any it does not show stay as they were.
    const shown = new Map([...form.querySelectorAll("[data-attr]")].map((el) => [el.dataset.attr, el.value.trim()]));
    after.attributes = before.attributes.filter((a) => !shown.has(a.name) || shown.get(a.name))
      .map((a) => (shown.has(a.name) ? {name: a.name, value: shown.get(a.name)} : a));
    for (const [name, value] of shown) {
      if (value && !before.attributes.some((a) => a.name === name)) after.attributes.push({name, value});
    }
    const body = customerBody(before, after, !existing);
    if (rejected) {
      const {status, body: answer} = await api("POST", `/v1/quarantine/${rejected.seq}/resend`, body);
      if (status !== 202) return showError(form, answer);
      refreshStatus();
      location.hash = "#/customer/" + answer.id;
      return;
    }
    if (existing && !Object.keys(body).length) {
      location.hash = "#/customer/" + existing.id;  // nothing changed: nothing written
      return;
    }
    if (existing) body.version = existing.version;
    const confirmed = confirmDuplicates;
    confirmDuplicates = false;
    const {status, body: answer} = existing
      ? await api("PATCH", "/v1/customers/" + existing.id, body)
      : await api("POST", "/v1/customers" + (confirmed ? "?confirm_duplicates=true" : ""), body);
    if (status === 200 || status === 201) {
      state.newCard = "";
      location.hash = "#/customer/" + answer.id;
    } else if (answer?.error?.code === "duplicates") {
      // Created anyway: the form as it is then, confirmed.
      duplicatesPanel(form, answer.candidates, () => { confirmDuplicates = true; form.requestSubmit(); });
    } else {
      showError(form, answer);
    }
  });
  return form;
}

// The likely duplicates of a customer about to be created, each with why:
// the associate opens the existing customer, or creates the new one anyway.
function duplicatesPanel(form, candidates, createAnyway) {
  form.querySelector("[data-testid=duplicates]")?.remove();
  const panel = h("section", {class: "duplicates", role: "alert", "data-testid": "duplicates"},
    h("h2", {}, t("dup.title")),
    h("ul", {}, ...candidates.map(({customer: c, reasons}) => h("li", {"data-testid": "duplicate"},
      h("a", {href: "#/customer/" + c.id}, h("strong", {}, c.name)), " ",
      h("span", {class: "account"}, c.pending ? t("customer.pending") : c.account), " ",
      h("span", {class: "why"}, [i18n.phone(c.phone), c.email].filter(Boolean).join(" · ")),
      h("span", {class: "why"}, reasons.map((r) => t("dup." + r)).join(", "))))),
    h("div", {class: "actions"},
      h("button", {type: "button", "data-testid": "create-anyway", onclick: createAnyway}, t("dup.create"))));
  form.querySelector("[data-form-actions]").before(panel);
  panel.querySelector("a").focus();
}

async function newCustomerView() {
  show(customerForm(null));
}

async function editView(id) {
  const {status, body} = await api("GET", "/v1/customers/" + encodeURIComponent(id));
  if (status !== 200) return show(h("p", {class: "field-error"}, message(body)));
  show(customerForm(body));
}

// ---- operations headquarters rejected ---------------------------------------------

// What needs attention: each operation headquarters rejected, with why; a
// rejected creation or edit is fixed in the form and sent again, or any of
// them discarded (after a second, explicit confirmation on the spot).
async function attentionView() {
  const {status, body} = await api("GET", "/v1/quarantine");
  if (status !== 200) return show(h("p", {class: "field-error"}, message(body)));
  const entries = body.quarantined;
  const kindOf = (e) => (e.operation.kind === "create_customer" ? "creation" : e.operation.kind === "update_customer" ? "edit" : "other");
  const discard = (e) => {
    const error = h("p", {class: "field-error", role: "alert", hidden: true, "data-testid": "error"});
    const confirmBox = h("div", {class: "confirm", role: "group", hidden: true, "data-testid": "discard-confirm"},
      h("p", {}, t("attention.discard.confirm." + kindOf(e))),
      h("button", {type: "button", class: "primary", "data-testid": "discard-yes", onclick: async () => {
        const {status: s, body: answer} = await api("POST", `/v1/quarantine/${e.seq}/discard`, {});
        if (s !== 200) {
          error.hidden = false;
          error.textContent = message(answer);
          return;
        }
        refreshStatus();
        attentionView();
      }}, t("attention.discard.yes")),
      h("button", {type: "button", onclick: () => { confirmBox.hidden = true; ask.hidden = false; }}, t("attention.discard.no")));
    const ask = h("button", {type: "button", "data-testid": "discard",
                             onclick: () => { confirmBox.hidden = false; ask.hidden = true; }}, t("attention.discard"));
    return [ask, confirmBox, error];
  };
  show(h("section", {class: "card", "data-testid": "attention"},
    h("h1", {}, t("attention.title")),
    entries.length ? null : h("p", {}, t("attention.empty")),
    h("ul", {class: "results"}, ...entries.map((e) => h("li", {"data-testid": "rejected", "data-seq": e.seq},
      h("a", {href: "#/customer/" + e.operation.customer_id}, h("strong", {}, e.customer_name)), " ",
      h("span", {class: "why"}, t("attention." + kindOf(e))),
      " · ", h("span", {class: "why"}, t("attention.rejected_at", {when: i18n.date(e.rejected_at)})),
      h("p", {}, t("attention.reason", {reason: reasonText(e.reason)})),
      can("edit_customer")
        ? h("div", {class: "actions"},
            kindOf(e) !== "other" ? h("a", {class: "button", href: "#/resend/" + e.seq, "data-testid": "fix"}, t("attention.fix")) : null,
            ...discard(e))
        : null)))));
}

async function resendView(seq) {
  const {status, body} = await api("GET", "/v1/quarantine");
  if (status !== 200) return show(h("p", {class: "field-error"}, message(body)));
  const rejected = body.quarantined.find((e) => String(e.seq) === seq);
  if (!rejected) return attentionView();
  const c = await api("GET", "/v1/customers/" + encodeURIComponent(rejected.operation.customer_id));
  if (c.status !== 200) return show(h("p", {class: "field-error"}, message(c.body)));
  show(customerForm(c.body, rejected));
}

// ---- customer details, card and timeline ---------------------------------------

function showAccount(id, account) {
  if (id !== state.pendingOnScreen || !location.hash.startsWith("#/customer/")) return;
  const el = document.querySelector('[data-testid="account"]');
  if (el) el.textContent = account;
  state.pendingOnScreen = "";
}

function definition(name) { return (state.clienteling?.attributes || []).find((a) => a.name === name); }

function shownValue(name, value) {
  const def = definition(name);
  if (def?.type === "date") return i18n.day(value);
  if (def?.type === "yes_no") return t(value);
  return value;
}

async function customerView(id) {
  const [{status, body: c}, card, timeline, ledger] = await Promise.all([
    api("GET", "/v1/customers/" + encodeURIComponent(id)),
    api("GET", `/v1/customers/${encodeURIComponent(id)}/card`),
    api("GET", `/v1/customers/${encodeURIComponent(id)}/timeline`),
    api("GET", `/v1/customers/${encodeURIComponent(id)}/consents`)]);
  if (status !== 200) return show(h("p", {class: "field-error"}, message(c)));
  const quarantine = await api("GET", "/v1/quarantine?customer=" + c.id);
  // What headquarters refused of this customer: the values here are not headquarters' until fixed or discarded.
  const refused = (quarantine.body?.quarantined || []).filter((e) => e.operation.kind === "create_customer" ||
                                                                     e.operation.kind === "update_customer");
  const differs = refused.length ? h("div", {class: "duplicates", role: "alert", "data-testid": "refused-here"},
    h("p", {}, h("strong", {}, t("customer.refused")), " ", ...refused.map((e) => t("attention.reason", {reason: reasonText(e.reason)}))),
    h("a", {class: "button", href: "#/attention"}, t("nav.attention", {n: i18n.number(refused.length)}))) : null;
  // Edits made here that headquarters has not answered yet (a creation says "Pending sync" instead).
  const queued = !c.pending && c.queued_changes > 0 && !refused.length ?
    h("p", {class: "hint", role: "status", "data-testid": "queued-here"},
      t("customer.queued", {n: i18n.number(c.queued_changes)})) : null;
  const dl = h("dl", {class: "facts"});
  const fact = (label, value, testid) => {
    if (value === "" || value === undefined || value === null) return;
    dl.append(h("dt", {}, label), h("dd", {"data-testid": testid}, value));
  };
  fact(t("customer.account"), c.pending ? t("customer.pending") : c.account, "account");
  state.pendingOnScreen = c.pending ? c.id : "";
  fact(t("form.email"), c.email, "email");
  if (c.email) fact(t("form.consent"), c.email_consent?.granted ? t("consent.yes") : t("consent.no"), "email-consent");
  fact(t("form.phone"), i18n.phone(c.phone), "phone");
  if (c.phone) fact(t("form.consent"), c.phone_consent?.granted ? t("consent.yes") : t("consent.no"), "phone-consent");
  for (const kind of ["secondary_emails", "secondary_phones"]) {
    for (const x of c[kind]) {
      fact(t("form." + kind), `${kind === "secondary_phones" ? i18n.phone(x.value) : x.value} — ` +
           (x.consent.granted ? t("consent.yes") : t("consent.no")));
    }
  }
  for (const a of c.addresses) {
    const contact = [a.contact_name, i18n.phone(a.contact_phone)].filter(Boolean).join(" ");
    fact(t("purpose." + a.purpose), [a.street, a.postal_code, a.city, a.region, a.country].filter(Boolean).join(", ") +
         (contact ? ` (${t("form.contact_name")}: ${contact})` : ""));
  }
  fact(t("form.receipt_preference"), t("receipt." + c.receipt_preference), "receipt-preference");
  fact(t("form.receipt_email"), c.receipt_email, "receipt-email");
  for (const a of c.attributes) fact(definition(a.name)?.label || a.name, shownValue(a.name, a.value));
  fact(t("customer.cards"), c.loyalty_cards.join(", "));
  const facts = card.status === 200 ? h("ul", {class: "card-facts", "data-testid": "card-facts"},
    ...card.body.facts.map((f) => h("li", {}, h("span", {}, f.label), h("strong", {}, shownValue(f.name, f.value))))) : null;
  const entries = h("ol", {class: "timeline", "data-testid": "timeline"},
    ...(timeline.body?.timeline || []).map((e) => e.kind === "conflict" ? conflictEntry(e) : h("li", {},
      h("time", {datetime: e.at}, i18n.date(e.at)), " ",
      h("strong", {}, e.kind === "note" ? t("timeline.note") :
        (state.clienteling.activity_types.find((x) => x.id === e.activity_type)?.name || e.activity_type)),
      " · ", e.worker_id, e.text ? h("p", {}, e.text) : null)));
  // The consent ledger: every consent given or withdrawn, in headquarters' order.
  const consents = (ledger.body?.consents || []).map((e) => h("li", {},
    h("time", {datetime: e.at}, i18n.date(e.at)), " ",
    h("strong", {}, e.granted ? t("consent.given") : t("consent.withdrawn")), " · ",
    e.channel === "phone" ? i18n.phone(e.contact) : e.contact,
    e.text_version ? ` · ${t("consent.text")} ${e.text_version}` : "",
    ` · ${e.operator_id || "-"} @ ${e.terminal_id}`,
    e.seq === null ? ` · ${t("customer.pending")}` : ""));
  const quick = timelineQuickAdd(id);
  const actions = h("div", {class: "actions"},
    can("edit_customer") ? h("a", {class: "button", href: `#/edit/${id}`}, t("customer.edit")) : null,
    can("add_to_book") && !(card.body?.books || []).includes(state.operator.worker_id)
      ? h("button", {type: "button", "data-testid": "add-to-book", onclick: async (e) => {
          const {status: s, body} = await api("POST", "/v1/clientbook/entries", {customer: id});
          e.target.replaceWith(h("span", {class: "note"}, s === 201 ? t("book.added") : message(body)));
        }}, t("book.add")) : null,
    h("button", {type: "button", "data-testid": "print", onclick: async (e) => {
      const {status: s, body} = await api("POST", `/v1/customers/${id}/receipt`);
      e.target.after(h("span", {class: "note", role: "status"}, s === 200 ? t("receipt.printed") : message(body)));
    }}, t("receipt.print")));
  show(h("article", {class: "card", "data-testid": "customer"},
    h("h1", {}, c.name), differs, queued, dl, facts, actions),
    h("section", {class: "card", "aria-labelledby": "tl"}, h("h2", {id: "tl"}, t("timeline.title")), quick, entries),
    consents.length ? h("section", {class: "card", "aria-labelledby": "cl"}, h("h2", {id: "cl"}, t("consent.history")),
                        h("ol", {class: "timeline", "data-testid": "consents"}, ...consents)) : null);
  if (c.pending) {
    // The number may have arrived while this page loaded (its event came first).
    const again = await api("GET", "/v1/customers/" + encodeURIComponent(id));
    if (again.status === 200 && !again.body.pending) showAccount(c.id, again.body.account);
  }
}

// Labels of the fields a conflict can name (the API's field names).
const conflictFieldLabels = {addresses: "form.address", loyalty_cards: "customer.cards"};

// A conflict headquarters reported: this field was edited here and
// elsewhere at the same time, and the value shown lost to the later edit.
function conflictEntry(e) {
  const field = t(conflictFieldLabels[e.field] || `form.${e.field}`);
  const value = e.field === "phone" && e.text ? i18n.phone(e.text) : (e.text || t("timeline.conflict_empty"));
  return h("li", {class: "conflict", "data-testid": "timeline-conflict"},
    h("time", {datetime: e.at}, i18n.date(e.at)), " ",
    h("strong", {}, t("timeline.conflict")), e.worker_id ? ` · ${e.worker_id}` : "",
    h("p", {}, t("timeline.conflict_text", {field, value})));
}

function timelineQuickAdd(id) {
  if (!can("add_activity") && !can("add_note")) return null;
  const type = h("select", {"aria-label": t("timeline.type"), "data-testid": "activity-type"},
    can("add_note") ? h("option", {value: ""}, t("timeline.note")) : null,
    ...(can("add_activity") ? state.clienteling.activity_types : []).map((a) => h("option", {value: a.id}, a.name)));
  const text = h("input", {type: "text", "aria-label": t("timeline.text"), "data-testid": "timeline-text",
                           "data-field": "text"});
  const form = h("form", {class: "row quick", onsubmit: async (e) => {
    e.preventDefault();
    const {status, body} = type.value
      ? await api("POST", `/v1/customers/${id}/activities`, {type: type.value, text: text.value})
      : await api("POST", `/v1/customers/${id}/notes`, {text: text.value});
    if (status === 201) return customerView(id);
    showError(form, body);
  }}, type, text, h("button", {type: "submit"}, t("timeline.add")));
  return form;
}

// ---- client book ---------------------------------------------------------------

async function bookView(params) {
  const store = params.get("store") === "true";
  const refinable = (state.clienteling?.attributes || []).filter((a) => a.refinable);
  const filters = h("form", {class: "filters", "data-testid": "filters"});
  const controls = [];
  for (const def of refinable) {
    if (def.type === "date") {
      const el = h("input", {type: "number", min: 0, max: 366, "data-filter": `f.${def.name}.within_days`,
                             value: params.get(`f.${def.name}.within_days`) || "", "aria-label": def.label});
      controls.push(el);
      filters.append(h("label", {class: "row"}, h("span", {}, t("book.within", {label: def.label})), el));
    } else if (def.type === "choice" || def.type === "yes_no") {
      const options = def.type === "choice" ? def.choices : ["yes", "no"];
      const el = h("select", {"data-filter": `f.${def.name}`, "aria-label": def.label},
        h("option", {value: ""}, t("book.any")),
        ...options.map((o) => h("option", {value: o, selected: params.get(`f.${def.name}`) === o},
                                def.type === "yes_no" ? t(o) : o)));
      controls.push(el);
      filters.append(h("label", {class: "row"}, h("span", {}, def.label), el));
    } else {
      for (const bound of ["min", "max"]) {
        const el = h("input", {type: "number", "data-filter": `f.${def.name}.${bound}`, "aria-label": `${def.label} ${bound}`,
                               value: params.get(`f.${def.name}.${bound}`) || ""});
        controls.push(el);
        filters.append(h("label", {class: "row"}, h("span", {}, `${def.label} (${t("book." + bound)})`), el));
      }
    }
  }
  const text = h("input", {type: "search", "data-filter": "q", value: params.get("q") || "", "aria-label": t("book.text")});
  controls.push(text);
  filters.append(h("label", {class: "row"}, h("span", {}, t("book.text")), text),
                 h("button", {type: "submit", class: "primary", "data-testid": "apply-filters"}, t("book.apply")));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (store) q.set("store", "true");
    for (const el of controls) if (el.value.trim()) q.set(el.dataset.filter, el.value.trim());
    location.hash = "#/book?" + q.toString();
  });
  const query = new URLSearchParams(params);
  query.set("limit", "100");
  const {status, body} = await api("GET", "/v1/clientbook?" + query.toString());
  const tabs = h("div", {class: "appbar"}, h("h1", {}, store ? t("book.store") : t("book.mine")),
    can("view_store_books") ? h("a", {class: "button", href: store ? "#/book" : "#/book?store=true",
                                       "data-testid": "toggle-store"}, store ? t("book.mine") : t("book.store")) : null);
  if (status !== 200) return show(tabs, filters, h("p", {class: "field-error", "data-testid": "error"}, message(body)));
  const number = body.book_pending ? t("customer.pending") : body.book_number || "";
  const summary = h("p", {class: "note", "data-testid": "book-summary"}, i18n.plural("book.summary", body.total, {number}));
  const cards = h("ul", {class: "book", "data-testid": "book"}, ...body.items.map((item) => {
    const c = item.customer;
    const li = h("li", {class: "card"},
      store ? h("input", {type: "checkbox", "data-select": c.id, "aria-label": c.name}) : null,
      h("a", {href: "#/customer/" + c.id, "data-testid": "book-entry"}, h("strong", {}, c.name)),
      h("span", {class: "account"}, c.pending ? t("customer.pending") : c.account),
      store ? h("span", {class: "owners"}, item.owners.map((o) =>
        (body.departed || []).includes(o) ? `${o} (${t("book.left")})` : o).join(", ")) : null,
      c.phone || c.email ? h("span", {class: "contact-line", "data-testid": "book-contact"},
                             [i18n.phone(c.phone), c.email].filter(Boolean).join(" · ")) : null,
      h("ul", {class: "card-facts"}, ...item.card.map((f) =>
        h("li", {}, h("span", {}, f.label), h("strong", {}, shownValue(f.name, f.value))))));
    // One's own book: a customer can be taken out of it here.
    if (!store) {
      li.append(h("button", {type: "button", class: "remove", "data-testid": "remove-from-book",
        "aria-label": `${t("book.remove")}: ${c.name}`, onclick: async (e) => {
          const {status: s, body: answer} = await api("DELETE", "/v1/clientbook/entries/" + encodeURIComponent(c.id));
          if (s === 200) return route();
          e.target.replaceWith(h("span", {class: "field-error", role: "alert"}, message(answer)));
        }}, t("book.remove")));
    }
    return li;
  }));
  const parts = [tabs, filters, summary, cards];
  if (store && can("reassign")) parts.push(await reassignForm(cards));
  show(...parts);
}

async function reassignForm(cards) {
  const {body} = await api("GET", "/v1/operators");
  const option = (o) => h("option", {value: o.worker_id}, `${o.name} (${o.worker_id})`);
  const options = (body?.operators || []).map(option);
  // Books of associates who left (deactivated or moved) can be given away, never given to.
  const departed = (body?.departed || []).map((o) =>
    h("option", {value: o.worker_id}, `${o.name} (${o.worker_id}) — ${t("book.left." + o.reason)}`));
  const from = h("select", {"data-testid": "reassign-from", "aria-label": t("book.from")}, ...options, ...departed);
  const to = h("select", {"data-testid": "reassign-to", "aria-label": t("book.to")}, ...options.map((o) => o.cloneNode(true)));
  const form = h("form", {class: "row reassign", onsubmit: async (e) => {
    e.preventDefault();
    const customers = [...cards.querySelectorAll("[data-select]:checked")].map((el) => el.dataset.select);
    const {status, body: answer} = await api("POST", "/v1/clientbook/reassign", {from: from.value, to: to.value, customers});
    if (status === 200) return route();
    showError(form, answer);
  }}, h("span", {}, t("book.reassign")), from, h("span", {}, "→"), to,
  h("button", {type: "submit", class: "primary", "data-testid": "reassign"}, t("book.reassign.go")));
  return form;
}

// ---- self-service kiosk --------------------------------------------------------

// A customer signs themselves up on the kiosk (or customer-facing screen) a
// staff member signed in and put in kiosk mode. The kiosk rests on its
// welcome screen, which invites a sign-up in the shopper's language; the
// form is typed on the on-screen keyboard; the consent text is shown beside
// each switch and its version recorded with the consent; the receipt prints.
// After the receipt (`reset` ms, default 20 s), a minute without input, or
// "Start over", the kiosk goes back to its welcome screen in its own language,
// keeping nothing of the shopper, and says so.
async function enterKiosk(params) {
  // The operator's session becomes a kiosk session: it may only sign a
  // customer up and show that customer back (the API enforces it).
  const {status, body} = await api("POST", "/v1/session/kiosk");
  if (status !== 201) return searchView("");
  await api("DELETE", "/v1/session");
  setToken(body.token);
  state.kiosk = true;
  await loadConsentTexts();
  kioskView(params);
}

// The consent texts headquarters published for the legal entity.
async function loadConsentTexts() {
  state.consentTexts = (await api("GET", "/v1/consent-texts")).body?.consent_texts || [];
}

// How long a kiosk form waits for the shopper: a minute (`#/kiosk?idle=MS` for tests).
function kioskIdleMs(params) { return Number(params.get("idle")) || 60000; }

const LANGUAGE_NAMES = {en: "English", lv: "Latviešu", zh: "中文", fi: "Suomi", sv: "Svenska"};

function kioskView(params) {
  if (!document.body.classList.contains("kiosk")) state.kioskLang = i18n.lang;  // entering kiosk mode
  document.body.classList.add("kiosk");
  keyboard.enable(true);
  kioskWelcome(params, false);
}

// Back to the welcome screen in the kiosk's own language: nothing of the
// shopper stays (the view is drawn anew), and the screen says so.
async function kioskRestart(params) {
  clearTimeout(state.kioskIdle);
  keyboard.hide();
  if (i18n.lang !== state.kioskLang) await i18n.load(state.kioskLang);
  kioskWelcome(params, true);
}

// The shopper's language, by its own name (no flags: a language is not a country).
function kioskLanguages(onChoose) {
  return h("div", {class: "languages", role: "group", "aria-label": t("lang.label")},
    ...Object.entries(LANGUAGE_NAMES).map(([l, name]) => h("button", {
      type: "button", "data-lang": l, lang: l === "zh" ? "zh-CN" : l, "aria-pressed": String(l === i18n.lang),
      onclick: async () => { await i18n.load(l); onChoose(); }}, name)));
}

function kioskWelcome(params, cleared) {
  clearTimeout(state.kioskIdle);
  state.kioskTouch = null;
  window.scrollTo(0, 0);
  show(h("section", {class: "kiosk-welcome", "data-testid": "kiosk-welcome"},
    h("h1", {}, t("kiosk.welcome.title")),
    h("p", {class: "lead"}, t("kiosk.welcome.text")),
    h("button", {type: "button", class: "primary start", "data-testid": "kiosk-start",
                 onclick: () => kioskForm(params)}, t("kiosk.start")),
    kioskLanguages(() => kioskWelcome(params, false)),
    cleared ? h("p", {class: "cleared", role: "status", "data-testid": "kiosk-cleared"}, t("kiosk.cleared")) : null,
    h("button", {type: "button", class: "staff", "data-testid": "kiosk-staff", onclick: () => kioskStaffExit(params)},
      t("kiosk.staff"))));
}

// Staff end kiosk mode by signing in here (worker ID and PIN, or nothing a
// shopper could do): the kiosk session ends and theirs begins. The bar's
// sign-out is not on the kiosk, so a shopper cannot switch it off.
function kioskStaffExit(params) {
  const touch = () => { clearTimeout(state.kioskIdle); state.kioskIdle = setTimeout(() => kioskRestart(params), kioskIdleMs(params)); };
  const error = h("p", {class: "field-error", role: "alert", hidden: true, "data-testid": "error"});
  const worker = h("input", {id: "k-worker", name: "worker", autocomplete: "off", required: true, "data-field": "worker_id"});
  const pin = h("input", {id: "k-pin", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off",
                          required: true, "data-field": "pin"});
  const form = h("form", {class: "card narrow", "aria-labelledby": "kiosk-staff-title", "data-testid": "kiosk-staff-form",
                          onsubmit: async (e) => {
    e.preventDefault();
    const {status, body} = await api("POST", "/v1/session", {worker_id: worker.value.trim(), pin: pin.value});
    if (status !== 201) {
      pin.value = "";
      error.hidden = false;
      error.textContent = message(body);
      return;
    }
    clearTimeout(state.kioskIdle);
    state.kioskTouch = null;
    keyboard.hide();
    await api("DELETE", "/v1/session");  // the kiosk's own session
    state.kiosk = false;
    const before = location.hash;
    await afterSignIn(body);
    if (location.hash === before) route();  // no hash change to route on
  }},
  h("h1", {id: "kiosk-staff-title"}, t("kiosk.staff.title")),
  h("label", {for: "k-worker"}, t("signin.worker")), worker,
  h("label", {for: "k-pin"}, t("signin.pin")), pin,
  error,
  h("div", {class: "actions"},
    h("button", {type: "submit", class: "primary", "data-testid": "kiosk-staff-submit"}, t("kiosk.staff.submit")),
    h("button", {type: "button", onclick: () => kioskRestart(params)}, t("kiosk.staff.back"))));
  form.addEventListener("input", touch);
  state.kioskTouch = touch;
  touch();
  show(form);
}

function kioskForm(params) {
  const resetMs = Number(params.get("reset")) || 20000;
  // The texts in the shopper's language; the consent records which one was shown.
  const texts = {email: consentText("email", i18n.lang), phone: consentText("phone", i18n.lang)};
  const restart = () => kioskRestart(params);
  const touch = () => { clearTimeout(state.kioskIdle); state.kioskIdle = setTimeout(restart, kioskIdleMs(params)); };
  const field = (name, type, label, extra = {}) =>
    h("label", {class: "row", for: "k-" + name}, h("span", {}, label),
      h("input", {id: "k-" + name, name, type, "data-field": name, autocomplete: "off", ...extra}));
  const consent = (kind) => {
    const id = "k-consent-" + kind;
    return h("div", {class: "consent"},
      h("label", {class: "switch", for: id}, h("input", {id, type: "checkbox", role: "switch", "data-consent": kind}),
        h("span", {"data-testid": "consent-text-" + kind}, texts[kind].text)),
      h("small", {class: "note"}, t("kiosk.consent.versionlabel", {version: texts[kind].reference})));
  };
  // A name as its language writes it: the family name first in Chinese.
  const names = [field("first_name", "text", t("form.first_name"), {autocapitalize: "words"}),
                 field("last_name", "text", t("form.last_name"), {autocapitalize: "words"})];
  if (i18n.lang === "zh") names.reverse();
  const form = h("form", {class: "card kiosk-form", "data-testid": "kiosk-form", autocomplete: "off", onsubmit: async (e) => {
    e.preventDefault();
    const v = (name) => form.querySelector(`[name="${name}"]`).value.trim();
    const checked = (kind) => form.querySelector(`[data-consent="${kind}"]`).checked;
    const body = {first_name: v("first_name"), last_name: v("last_name"), receipt_preference: "print"};
    // The shopper's own email and phone are the primary ones, each with its consent and the text shown.
    if (v("email")) {
      body.email = v("email");
      body.email_consent = {granted: checked("email"), text_version: texts.email.reference};
    }
    if (v("phone")) {
      body.phone = v("phone");
      body.phone_consent = {granted: checked("phone"), text_version: texts.phone.reference};
    }
    // Receipts by email only to an address the shopper gave for them.
    if (v("receipt_email")) {
      body.receipt_email = v("receipt_email");
      body.receipt_preference = "print_and_email";
    }
    const {status, body: answer} = await api("POST", "/v1/customers?print_receipt=true", body);
    if (status !== 201) return showError(form, answer);
    clearTimeout(state.kioskIdle);
    state.kioskTouch = null;
    keyboard.hide();
    show(h("section", {class: "card kiosk-done", "data-testid": "kiosk-done"},
      h("h1", {}, t("kiosk.thanks", {name: answer.first_name || answer.name})),
      h("p", {}, answer.receipt === "printed" ? t("kiosk.receipt") : t("kiosk.receipt.later"))));
    state.kioskIdle = setTimeout(restart, resetMs);
  }},
  h("div", {class: "appbar"}, h("h1", {}, t("kiosk.title")),
    h("button", {type: "button", class: "start-over", "data-testid": "kiosk-start-over", onclick: restart}, t("kiosk.start_over"))),
  kioskLanguages(() => kioskForm(params)),
  h("div", {class: "kiosk-fields"}, ...names,
    field("email", "email", t("form.email")), consent("email"),
    field("phone", "tel", t("form.phone")), consent("phone"),
    field("receipt_email", "email", t("kiosk.receipt_email"))),
  h("div", {class: "actions"}, h("button", {type: "submit", class: "primary", "data-testid": "kiosk-submit"}, t("kiosk.submit"))));
  form.addEventListener("input", touch);
  form.addEventListener("change", touch);
  state.kioskTouch = touch;  // any tap counts, a key of the keyboard that types nothing too
  touch();
  show(form);
}

// ---- routing, events, language -------------------------------------------------

async function route(reason) {
  // The sealed screen stays until checkAccess sees the terminal open again
  // (every 423 and the status poll ask); routing itself never waits for it,
  // so a sign-out's two routes start as they always did.
  if (state.sealed) return;
  const [path, query] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = (path || "/").split("/").filter(Boolean);
  if (!signedIn() || !state.operator) {
    if (signedIn() && await loadContext()) return route();
    return signInView(typeof reason === "string" ? reason : "");
  }
  if (state.kiosk) return kioskView(params);
  if (document.body.classList.contains("kiosk")) {
    document.body.classList.remove("kiosk");
    setKeyboard(localStorage.getItem("kassa.keyboard") === "on", false);
  }
  resetIdle();
  switch (parts[0]) {
    case "kiosk": return enterKiosk(params);
    case "new": return newCustomerView(params);
    case "edit": return editView(parts[1]);
    case "customer": return customerView(parts[1]);
    case "book": return bookView(params);
    case "attention": return attentionView();
    case "resend": return resendView(parts[1]);
    default: return searchView(params.get("q") || "");
  }
}

async function setLanguage(lang, remember = true) {
  await i18n.load(lang);
  document.getElementById("lang").value = i18n.lang;
  if (remember) {
    localStorage.setItem(state.operator ? "kassa.lang." + state.operator.worker_id : "kassa.lang", i18n.lang);
  }
  refreshStatus();
  refreshDevices();
}

onEvent((e) => {
  if (e.type === "sync" || e.type === "stream") refreshStatus();
  if (e.type === "device_status") refreshDevices();
  if (e.type === "signed_in" && !state.operator && state.swipeTicket) {
    const ticket = state.swipeTicket;
    state.swipeTicket = null;
    api("POST", "/v1/session", {ticket}).then(({status, body}) => status === 201 && afterSignIn(body));
  }
  if (e.type === "badge_refused" && !state.operator && state.badgeError) {
    state.badgeError.hidden = false;
    state.badgeError.textContent = t("signin.badge_refused");
  }
  if (!state.operator) return;
  // A scan or swipe fills the search box and searches at once; an unknown
  // card is kept for the new-customer form.
  if (e.type === "customer_found" || e.type === "unknown_card") {
    state.newCard = e.type === "unknown_card" ? e.code : "";
    if (document.body.classList.contains("kiosk")) return;
    const target = "#/search?q=" + encodeURIComponent(e.code);
    // A new address searches through the route; the same code scanned again searches here.
    if (location.hash === target) state.runSearch?.(e.code);
    else location.hash = target;
  }
  // The account number arriving: shown at once when its customer is on
  // screen. The event can overtake the customer's own page load, so the
  // page also asks again after each sync while it shows "Pending sync".
  if (e.type === "account_assigned") showAccount(e.customer.id, e.customer.account);
  if (e.type === "sync" && state.pendingOnScreen) {
    const id = state.pendingOnScreen;
    api("GET", "/v1/customers/" + encodeURIComponent(id)).then(({status, body}) => {
      if (status === 200 && !body.pending) showAccount(id, body.account);
    });
  }
});
// The on-screen keyboard on an associate's screens: on demand (the bar's
// Keyboard button), remembered on this terminal. The kiosk always has it.
function setKeyboard(on, remember = true) {
  keyboard.enable(on);
  document.getElementById("keyboard-toggle").setAttribute("aria-pressed", String(on));
  if (remember) localStorage.setItem("kassa.keyboard", on ? "on" : "off");
}

onSessionEnded(() => { state.operator = null; state.kiosk = false; route("signin.expired"); });
onLocked(() => { if (!state.sealed) checkAccess(); });

for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, resetIdle, {passive: true});
// On the kiosk's forms a tap anywhere keeps the shopper's minute going.
document.addEventListener("pointerdown", () => state.kioskTouch?.(), {passive: true});
document.getElementById("signout").addEventListener("click", () => signOut(""));
document.getElementById("lang").addEventListener("change", (e) => setLanguage(e.target.value));
document.getElementById("keyboard-toggle").addEventListener("click", () => setKeyboard(!keyboard.enabled()));
window.addEventListener("hashchange", () => route());

await i18n.load(localStorage.getItem("kassa.lang") || "en");
setKeyboard(localStorage.getItem("kassa.keyboard") === "on", false);
document.getElementById("lang").value = i18n.lang;
startEvents();
refreshStatus();
refreshDevices();
setInterval(refreshStatus, 10000);
setInterval(() => { if (state.operator && document.body.classList.contains("kiosk")) api("GET", "/v1/session"); }, 60000);
if (await checkAccess()) route();
