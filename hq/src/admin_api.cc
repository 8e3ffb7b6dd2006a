#include "admin_api.h"

#include <any>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <set>

#include "kassa/base/log.h"
#include "kassa/hq/admin_credentials.h"
#include "kassa/http/customer_json.h"
#include "kassa/http/metrics_text.h"
#include "kassa/search/customer_search.h"
#include "kassa/search/duplicates.h"
#include "measures_import.h"

namespace kassa::hq {
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using http::Call;
using http::CustomerJson;
using http::Error;
using http::Invalid;
using http::Reply;
using http::IsoTime;
using http::RouteOf;
using http::TimelineJson;
using http::Verb;

namespace {

// Access events a data-subject export lists at most (newest first).
constexpr std::size_t kMaxAccessListing = 100000;

Reply NoSuchAccount() {
  return Error(http::ApiError{404, "not_found", "customer", "no customer with this account number"});
}

std::optional<Reply> Health(AdminContext&, Call&) {
  return Reply{200, json::object{{"status", "ok"}, {"service", "kassa-hq"}, {"api", "v1"}}};
}

json::object WipeJson(const storage::WipeOrder& w) {
  return json::object{{"terminal_id", w.terminal_id},
                      {"ordered_at", IsoTime(w.ordered_ms)},
                      {"ordered_by", w.who},
                      {"confirmed", w.confirmed_ms != 0},
                      {"confirmed_at", w.confirmed_ms != 0 ? json::value(IsoTime(w.confirmed_ms)) : json::value(nullptr)},
                      {"certificate_revoked",
                       w.certificate_serial.empty() ? json::value(nullptr) : json::value(w.certificate_serial)}};
}

std::optional<Reply> StatusReport(AdminContext& self, Call&) {
  auto status = self.registry.Report();
  if (!status.ok()) return Error(status.status());
  const auto connected_list = self.link.ConnectedTerminals();
  const std::set<std::string> connected(connected_list.begin(), connected_list.end());
  std::map<std::string, storage::WipeOrder> wipes;
  for (auto& w : self.registry.WipeOrders()) wipes.emplace(w.terminal_id, std::move(w));
  json::array terminals;
  for (const auto& t : status->terminals) {
    const auto wipe = wipes.find(t.record.terminal_id);
    terminals.push_back(json::object{{"terminal_id", t.record.terminal_id},
                                     {"wipe", wipe == wipes.end() ? json::value(nullptr) : json::value(WipeJson(wipe->second))},
                                     {"store_id", t.record.store_id},
                                     {"connected", connected.contains(t.record.terminal_id)},
                                     {"cursor", t.record.cursor},
                                     {"lag", t.lag},
                                     {"last_seen", IsoTime(t.record.last_seen_ms)},
                                     {"operations_applied", t.record.operations_applied},
                                     {"rejections", t.record.rejections}});
  }
  json::array warnings;
  for (std::string& w : self.registry.config().Warnings()) warnings.emplace_back(std::move(w));
  return Reply{200, json::object{{"customers", status->chain.customers},
                                 {"head_cursor", status->chain.head_seq},
                                 {"operations_recorded", status->chain.operations},
                                 {"operations_applied", status->operations_applied},
                                 {"rejections", status->rejections},
                                 {"terminals_connected", connected.size()},
                                 {"terminals", std::move(terminals)},
                                 {"warnings", std::move(warnings)},
                                 {"time", IsoTime(self.clock.NowMs())}}};
}

// The whole fleet in one scrape: the chain's counts and, per terminal,
// whether it is connected, how far behind, when last seen.
std::optional<Reply> Metrics(AdminContext& self, Call&) {
  auto status = self.registry.Report();
  if (!status.ok()) return Error(status.status());
  const auto connected_list = self.link.ConnectedTerminals();
  const std::set<std::string> connected(connected_list.begin(), connected_list.end());
  http::MetricsText m;
  const auto one = [&](const char* name, const char* type, const char* help, double value) {
    m.Family(name, type, help);
    m.Sample({}, value);
  };
  one("kassa_hq_customers", "gauge", "Customers headquarters holds.", static_cast<double>(status->chain.customers));
  one("kassa_hq_change_log_head", "gauge", "The newest change of the log distributed to terminals.",
      static_cast<double>(status->chain.head_seq));
  one("kassa_hq_operations_applied_total", "counter", "Terminals' operations applied, over all terminals.",
      static_cast<double>(status->operations_applied));
  one("kassa_hq_operations_rejected_total", "counter", "Terminals' operations rejected, over all terminals.",
      static_cast<double>(status->rejections));
  one("kassa_hq_terminals_connected", "gauge", "Terminals connected now.", static_cast<double>(connected.size()));
  const auto per_terminal = [&](const char* name, const char* type, const char* help, auto value) {
    m.Family(name, type, help);
    for (const auto& t : status->terminals) {
      m.Sample({{"terminal", t.record.terminal_id}, {"store", t.record.store_id}}, value(t));
    }
  };
  per_terminal("kassa_hq_terminal_connected", "gauge", "1 while the terminal is connected.",
               [&](const TerminalStatus& t) { return connected.contains(t.record.terminal_id) ? 1.0 : 0.0; });
  per_terminal("kassa_hq_terminal_lag_changes", "gauge", "Changes in the log after the terminal's cursor.",
               [](const TerminalStatus& t) { return static_cast<double>(t.lag); });
  per_terminal("kassa_hq_terminal_last_seen_timestamp_seconds", "gauge", "When the terminal was last heard from.",
               [](const TerminalStatus& t) { return static_cast<double>(t.record.last_seen_ms) / 1000.0; });
  per_terminal("kassa_hq_terminal_operations_applied_total", "counter", "The terminal's operations applied.",
               [](const TerminalStatus& t) { return static_cast<double>(t.record.operations_applied); });
  per_terminal("kassa_hq_terminal_operations_rejected_total", "counter", "The terminal's operations rejected.",
               [](const TerminalStatus& t) { return static_cast<double>(t.record.rejections); });
  self.route_metrics.Write(m, "kassa_hq");
  Reply reply;
  reply.content_type = std::string(http::kMetricsContentType);
  reply.text = m.str();
  return reply;
}

// Who is calling, as the guard proved it.
const storage::AdminCredential& CallerOf(const Call& call) {
  return *std::any_cast<storage::AdminCredential>(&call.identity);
}

std::optional<Reply> Config(AdminContext& self, Call&) {
  return Reply{200, ChainConfigToJson(self.registry.config(), /*with_secrets=*/false)};
}

std::optional<Reply> ReplaceConfig(AdminContext& self, Call& call) {
  auto body = http::ParseJsonObject(call.request());
  if (!body.ok()) return Error(body.status());
  ChainConfig config;
  std::string field;
  if (Status s = ParseChainConfig(json::value(std::move(*body)), config, field); !s.ok()) return Error(s, field);
  // PIN hashes and badges are write-only: one left out keeps the one stored.
  config = KeepOperatorSecrets(std::move(config), self.registry.config());
  if (Status s = self.registry.ReplaceConfig(config, CallerOf(call).name); !s.ok()) return Error(s);
  self.link.ChangesAppended();
  return Reply{200, ChainConfigToJson(self.registry.config(), /*with_secrets=*/false)};
}

// Records that the caller's credential did `action` to `customers` (the
// data-access audit trail); a read that cannot be accounted for is not
// answered: the caller gets the storage error instead.
Status Saw(AdminContext& self, const Call& call, model::AccessAction action, const std::vector<model::LocalId>& customers) {
  std::vector<model::AccessEvent> events;
  for (const auto& id : customers) {
    events.push_back(model::AccessEvent{id, action, self.clock.NowMs(), "", CallerOf(call).name, 0});
  }
  return self.registry.RecordAccess(events).status();
}

json::object AccessEventJson(const model::AccessEvent& e) {
  return json::object{{"at", IsoTime(e.at_ms)},
                      {"action", model::ToString(e.action)},
                      {"terminal", e.terminal_id.empty() ? json::value(nullptr) : json::value(e.terminal_id)},
                      {"by", e.operator_id}};
}

std::optional<Reply> Search(AdminContext& self, Call& call) {
  const auto q = call.query("q");
  if (!q) return Invalid("q", "required: the search text");
  std::size_t limit = search::kDefaultSearchLimit;
  if (const auto l = call.query("limit")) {
    const auto r = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (r.ec != std::errc() || r.ptr != l->data() + l->size()) return Invalid("limit", "must be a number from 1 to 100");
  }
  const ChainConfig& chain = self.registry.config();
  const std::string country = chain.legal_entities.empty() || chain.legal_entities.front().stores.empty()
                                  ? std::string()
                                  : chain.legal_entities.front().stores.front().operating_unit_country;
  auto results = search::SearchCustomers(self.registry.store(), *q, limit, country);
  if (!results.ok()) return Error(results.status());
  std::vector<model::LocalId> listed;
  for (const auto& r : *results) listed.push_back(r.customer.id);
  if (Status s = Saw(self, call, model::AccessAction::kListed, listed); !s.ok()) return Error(s);
  json::array out;
  for (const auto& r : *results) {
    out.push_back(json::object{{"customer", CustomerJson(r.customer)}, {"matched", search::ToString(r.matched)}});
  }
  return Reply{200, json::object{{"results", std::move(out)}}};
}

// Likely duplicates across the chain's stores, for a person to review: pairs
// of customers of one legal entity with the reasons they look like one
// person (search/duplicates.h), each pair once. A page scans `scan`
// customers in id order after `after` (default 200, at most 2,000: the
// work of one call is bounded, as the admin API shares its thread with the
// link) and returns `next` to go on from, null at the end. Every customer
// of a pair shown is a listing in the access trail.
std::optional<Reply> Duplicates(AdminContext& self, Call& call) {
  std::optional<model::LocalId> after;
  if (const auto a = call.query("after"); a && !a->empty()) {
    after = model::LocalId::FromHex(*a);
    if (!after) return Invalid("after", "must be a customer id (32 hex digits) from an earlier page's next");
  }
  std::size_t scan = 200;
  if (const auto n = call.query("scan")) {
    const auto r = std::from_chars(n->data(), n->data() + n->size(), scan);
    if (r.ec != std::errc() || r.ptr != n->data() + n->size() || scan == 0 || scan > 2000) {
      return Invalid("scan", "must be a number from 1 to 2000");
    }
  }
  storage::ChainStore& store = self.registry.store();
  auto page = store.CustomersAfter(after, scan);
  if (!page.ok()) return Error(page.status());
  json::array pairs;
  std::vector<model::LocalId> listed;
  for (const model::Customer& c : *page) {
    auto entity = store.LegalEntityOf(c.id);
    if (!entity.ok()) return Error(entity.status());
    auto found = search::FindDuplicates(store, c, search::DuplicateQuery{false, 6});
    if (!found.ok()) return Error(found.status());
    for (const auto& d : *found) {
      // Each pair once (from its lower id), never a customer with itself, never across legal entities.
      if (!(c.id.bytes < d.customer.id.bytes)) continue;
      auto other = store.LegalEntityOf(d.customer.id);
      if (!other.ok()) return Error(other.status());
      if (*other != *entity) continue;
      json::array reasons;
      for (const auto r : d.reasons) reasons.emplace_back(search::ToString(r));
      pairs.push_back(json::object{{"legal_entity", entity->value_or("")},
                                   {"customers", json::array{CustomerJson(c), CustomerJson(d.customer)}},
                                   {"reasons", std::move(reasons)}});
      listed.push_back(c.id);
      listed.push_back(d.customer.id);
    }
  }
  if (Status s = Saw(self, call, model::AccessAction::kListed, listed); !s.ok()) return Error(s);
  const json::value next = page->size() < scan ? json::value(nullptr) : json::value(page->back().id.ToHex());
  return Reply{200, json::object{{"pairs", std::move(pairs)}, {"scanned", page->size()}, {"next", next}}};
}

// Insight measures for the customer card, replacing each customer's; all or nothing.
std::optional<Reply> ImportMeasures(AdminContext& self, Call& call) {
  const auto entity = call.query("legal_entity");
  if (!entity) return Invalid("legal_entity", "required: ?legal_entity=ID");
  const auto& req = call.request();
  const auto type = req.find(bhttp::field::content_type);
  const bool csv = type != req.end() && type->value().starts_with("text/csv");
  MeasuresByAccount by_account;
  std::string field;
  if (Status s = csv ? ParseMeasuresCsv(req.body(), by_account, field) : ParseMeasuresJson(req.body(), by_account, field);
      !s.ok()) {
    return Error(s, field);
  }
  std::vector<model::CustomerMeasures> measures;
  for (auto& [account, values] : by_account) {
    auto id = search::FindByAccount(self.registry.store(), account);
    if (!id.ok()) return Error(id.status());
    if (!*id) return Error(http::ApiError{404, "not_found", "account", "no customer with account number " + account});
    measures.push_back({**id, std::move(values)});
  }
  auto imported = self.registry.ImportMeasures(*entity, measures, CallerOf(call).name);
  if (!imported.ok()) return Error(imported.status());
  self.link.ChangesAppended();
  return Reply{200, json::object{{"customers", *imported}}};
}

std::optional<Reply> Show(AdminContext& self, Call& call) {
  auto id = search::FindByAccount(self.registry.store(), call.param(0));
  if (!id.ok()) return Error(id.status());
  if (!*id) return NoSuchAccount();
  auto c = self.registry.store().FindCustomer(**id);
  if (!c.ok()) return Error(c.status());
  if (!*c) return NoSuchAccount();
  if (Status s = Saw(self, call, model::AccessAction::kOpened, {**id}); !s.ok()) return Error(s);
  return Reply{200, CustomerJson(**c)};
}

// A customer's activities and notes as headquarters holds them.
std::optional<Reply> Timeline(AdminContext& self, Call& call) {
  const auto entity = call.query("legal_entity");
  if (!entity) return Invalid("legal_entity", "required: ?legal_entity=ID");
  auto id = search::FindByAccount(self.registry.store(), call.param(0));
  if (!id.ok()) return Error(id.status());
  if (!*id) return NoSuchAccount();
  auto entries = self.registry.store().Timeline(*entity, **id, 500);
  if (!entries.ok()) return Error(entries.status());
  if (Status s = Saw(self, call, model::AccessAction::kOpened, {**id}); !s.ok()) return Error(s);
  json::array out;
  for (const auto& e : *entries) out.push_back(TimelineJson(e));
  return Reply{200, json::object{{"timeline", std::move(out)}}};
}

// The customer's consent ledger in headquarters' order (its own legal entity's).
std::optional<Reply> Consents(AdminContext& self, Call& call) {
  storage::ChainStore& store = self.registry.store();
  auto id = search::FindByAccount(store, call.param(0));
  if (!id.ok()) return Error(id.status());
  if (!*id) return NoSuchAccount();
  auto entity = store.LegalEntityOf(**id);
  if (!entity.ok()) return Error(entity.status());
  auto entries = store.Consents(entity->value_or(""), **id);
  if (!entries.ok()) return Error(entries.status());
  if (Status s = Saw(self, call, model::AccessAction::kOpened, {**id}); !s.ok()) return Error(s);
  json::array out;
  for (const auto& e : *entries) out.push_back(http::ConsentJson(e));
  return Reply{200, json::object{{"consents", std::move(out)}}};
}

// Data-subject access: everything headquarters holds about one customer,
// as one document; the export itself is audited.
std::optional<Reply> Export(AdminContext& self, Call& call) {
  auto id = search::FindByAccount(self.registry.store(), call.param(0));
  if (!id.ok()) return Error(id.status());
  if (!*id) return NoSuchAccount();
  storage::ChainStore& store = self.registry.store();
  auto c = store.FindCustomer(**id);
  if (!c.ok()) return Error(c.status());
  if (!*c) return NoSuchAccount();
  auto entity = store.LegalEntityOf(**id);
  if (!entity.ok()) return Error(entity.status());
  const std::string le = entity->value_or("");
  auto timeline = store.Timeline(le, **id, 100000);
  if (!timeline.ok()) return Error(timeline.status());
  auto measures = store.Measures(le, **id);
  if (!measures.ok()) return Error(measures.status());
  auto books = store.BookEntries(le, "");
  if (!books.ok()) return Error(books.status());
  auto consents = store.Consents(le, **id);
  if (!consents.ok()) return Error(consents.status());
  // The export is recorded first, so the document shows it too.
  if (Status s = Saw(self, call, model::AccessAction::kExported, {**id}); !s.ok()) return Error(s);
  auto access = self.registry.AccessEvents(**id, kMaxAccessListing);
  if (!access.ok()) return Error(access.status());
  json::array timeline_out, measures_out, books_out, consents_out, access_out;
  for (const auto& e : *access) access_out.push_back(AccessEventJson(e));
  const LegalEntity* entity_config = self.registry.config().FindLegalEntity(le);
  for (const auto& e : *consents) {
    json::object entry = http::ConsentJson(e);
    const model::ConsentText* text =
        entity_config == nullptr ? nullptr
                                 : entity_config->clienteling.FindConsentText(model::ConsentTextId(e.channel), e.text_version);
    entry["text"] = text == nullptr ? json::value(nullptr) : json::value(text->text);
    consents_out.push_back(std::move(entry));
  }
  for (const auto& e : *timeline) timeline_out.push_back(TimelineJson(e));
  for (const auto& m : *measures) measures_out.push_back(json::object{{"name", m.name}, {"value", m.value}});
  for (const auto& b : *books) {
    if (b.customer_id != **id) continue;
    books_out.push_back(json::object{{"owner", b.owner}, {"book_number", b.book_number},
                                     {"since", IsoTime(b.changed_at_ms)}, {"by", b.changed_by}});
  }
  if (Status s = self.registry.Audit(CallerOf(call).name, "customer " + (*id)->ToHex() + " exported (data-subject access)");
      !s.ok()) {
    return Error(s);
  }
  return Reply{200, json::object{{"exported_at", IsoTime(self.clock.NowMs())},
                                 {"legal_entity", le},
                                 {"customer", CustomerJson(**c)},
                                 {"client_books", std::move(books_out)},
                                 {"consent_ledger", std::move(consents_out)},
                                 {"timeline", std::move(timeline_out)},
                                 {"measures", std::move(measures_out)},
                                 {"access_log", std::move(access_out)}}};
}

// ?limit= of a listing (default `limit`): false when it is not 1 to 1000.
bool ListLimit(const Call& call, std::size_t& limit) {
  const auto l = call.query("limit");
  if (!l) return true;
  const auto r = std::from_chars(l->data(), l->data() + l->size(), limit);
  return r.ec == std::errc() && r.ptr == l->data() + l->size() && limit >= 1 && limit <= 1000;
}

json::object ErasureJson(const ErasureStatus& s) {
  json::array confirmed, pending;
  for (const auto& t : s.confirmed) confirmed.push_back(json::string(t));
  for (const auto& t : s.pending) pending.push_back(json::string(t));
  return json::object{{"customer_id", s.erasure.customer.ToHex()},
                      {"legal_entity", s.erasure.legal_entity},
                      {"at", IsoTime(s.erasure.at_ms)},
                      {"by", s.erasure.who},
                      {"change", s.erasure.seq},
                      {"confirmed_by", std::move(confirmed)},
                      {"pending", std::move(pending)}};
}

// Sets `id` to the customer `key` names: a 32-hex-digit id as it is (a
// customer headquarters never held, or one erased), else an account number.
// Returns the refusal when it names none.
std::optional<Reply> CustomerIdOf(AdminContext& self, std::string_view key, model::LocalId& id) {
  if (const auto hex = model::LocalId::FromHex(key)) {
    id = *hex;
    return std::nullopt;
  }
  auto found = search::FindByAccount(self.registry.store(), key);
  if (!found.ok()) return Error(found.status());
  if (!*found) return NoSuchAccount();
  id = **found;
  return std::nullopt;
}

// Erases a customer, named by account number or, for one headquarters never
// held (created offline, not uploaded yet), by its 32-hex-digit id with
// ?legal_entity=ID.
std::optional<Reply> Erase(AdminContext& self, Call& call) {
  model::LocalId id;
  if (auto refused = CustomerIdOf(self, call.param(0), id)) return refused;
  const auto entity = call.query("legal_entity");
  auto erased = self.registry.Erase(id, entity ? std::optional<std::string_view>(*entity) : std::nullopt,
                                    CallerOf(call).name);
  if (!erased.ok()) return Error(erased.status());
  self.link.ChangesAppended();
  return Reply{200, ErasureJson(*erased)};
}

// Who opened, listed, printed, exported, created, changed or erased the
// customer, over the whole chain, newest first: by account number, or by id
// (an erased customer has no account any more).
std::optional<Reply> AccessTrail(AdminContext& self, Call& call) {
  std::size_t limit = 100;
  if (!ListLimit(call, limit)) return Invalid("limit", "must be a number from 1 to 1000");
  model::LocalId id;
  if (auto refused = CustomerIdOf(self, call.param(0), id)) return refused;
  auto events = self.registry.AccessEvents(id, limit);
  if (!events.ok()) return Error(events.status());
  json::array out;
  for (const auto& e : *events) out.push_back(AccessEventJson(e));
  return Reply{200, json::object{{"customer_id", id.ToHex()}, {"access", std::move(out)}}};
}

std::optional<Reply> Erasures(AdminContext& self, Call& call) {
  std::size_t limit = 100;
  if (!ListLimit(call, limit)) return Invalid("limit", "must be a number from 1 to 1000");
  auto erasures = self.registry.Erasures(limit);
  if (!erasures.ok()) return Error(erasures.status());
  json::array out;
  for (const auto& e : *erasures) out.push_back(ErasureJson(e));
  return Reply{200, json::object{{"erasures", std::move(out)}}};
}

// Orders a terminal wiped; a connected one is disconnected so that its next
// connection carries the order.
std::optional<Reply> Wipe(AdminContext& self, Call& call) {
  auto order = self.registry.OrderWipe(call.param(0), CallerOf(call).name);
  if (!order.ok()) return Error(order.status());
  self.link.Reconnect(order->terminal_id);
  return Reply{202, WipeJson(*order)};
}

std::optional<Reply> Wipes(AdminContext& self, Call&) {
  json::array out;
  for (const auto& w : self.registry.WipeOrders()) out.push_back(WipeJson(w));
  return Reply{200, json::object{{"wipes", std::move(out)}}};
}

json::object RotationJson(AdminContext& self) {
  const auto p = self.rotation.progress();
  json::array generations;
  for (const auto g : p.generations) generations.push_back(g);
  return json::object{{"rotating", p.pending}, {"generations", std::move(generations)}, {"slots_done", p.next},
                      {"slots", p.slots}, {"rewrapped", p.rewrapped}};
}

std::optional<Reply> Keys(AdminContext& self, Call&) { return Reply{200, RotationJson(self)}; }

// Begins a master key rotation: a new generation in the key file, every key
// re-wrapped under it between requests, then the old one destroyed.
std::optional<Reply> RotateKeys(AdminContext& self, Call& call) {
  if (Status s = self.rotation.Begin(); !s.ok()) return Error(s);
  if (Status s = self.registry.Audit(CallerOf(call).name, "master key rotation begun"); !s.ok()) return Error(s);
  self.rotating.Start([&self] { return self.rotation.Step(); });
  return Reply{202, RotationJson(self)};
}

// Runs the retention sweep now (it also runs daily).
std::optional<Reply> RunRetention(AdminContext& self, Call& call) {
  const Retention& r = self.registry.config().retention;
  if (Status s = self.registry.Audit(CallerOf(call).name, "retention sweep started"); !s.ok()) return Error(s);
  self.start_retention();
  return Reply{202, json::object{{"inactive_customer_years", r.inactive_customer_years},
                                 {"audit_months", r.audit_months}}};
}

std::optional<Reply> AuditTrail(AdminContext& self, Call& call) {
  std::size_t limit = 100;
  if (!ListLimit(call, limit)) return Invalid("limit", "must be a number from 1 to 1000");
  auto entries = self.registry.store().Audit(limit);
  if (!entries.ok()) return Error(entries.status());
  json::array out;
  for (const auto& e : *entries) {
    out.push_back(json::object{{"seq", e.seq}, {"at", IsoTime(e.at_ms)}, {"who", e.who}, {"what", e.what}});
  }
  return Reply{200, json::object{{"audit", std::move(out)}}};
}

// Every route needs a credential (admin_credentials.h): "read" any token,
// "admin" a token of role admin.
constexpr RouteOf<AdminContext> kAdminRoutes[] = {
    {Verb::get, "/v1/health", "read", &Health},
    {Verb::get, "/v1/status", "read", &StatusReport},
    {Verb::get, "/v1/metrics", "read", &Metrics},
    {Verb::get, "/v1/config", "read", &Config},
    {Verb::put, "/v1/config", "admin", &ReplaceConfig},
    {Verb::get, "/v1/customers", "read", &Search},
    {Verb::get, "/v1/duplicates", "read", &Duplicates},
    {Verb::post, "/v1/measures", "admin", &ImportMeasures},
    {Verb::get, "/v1/customers/{account}", "read", &Show},
    {Verb::get, "/v1/customers/{account}/timeline", "read", &Timeline},
    {Verb::get, "/v1/customers/{account}/consents", "read", &Consents},
    {Verb::get, "/v1/customers/{account}/export", "admin", &Export},
    {Verb::get, "/v1/customers/{account}/access", "read", &AccessTrail},
    {Verb::get, "/v1/audit", "read", &AuditTrail},
    {Verb::delete_, "/v1/customers/{account}", "admin", &Erase},
    {Verb::get, "/v1/erasures", "read", &Erasures},
    {Verb::post, "/v1/terminals/{terminal}/wipe", "admin", &Wipe},
    {Verb::get, "/v1/wipes", "read", &Wipes},
    {Verb::get, "/v1/keys", "read", &Keys},
    {Verb::post, "/v1/keys/rotate", "admin", &RotateKeys},
    {Verb::post, "/v1/retention/run", "admin", &RunRetention},
};

// The guard: a bearer token whose hash is a stored credential (401
// otherwise), of role admin for the "admin" routes (403 otherwise).
std::optional<Reply> AdminGuard(AdminContext& self, Call& call) {
  const auto header = call.request().find(bhttp::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (header == call.request().end() || !header->value().starts_with(kBearer)) {
    return Error(http::ApiError{401, "unauthenticated", "credentials",
                                "an admin token is required (Authorization: Bearer TOKEN; kassa-hq token create)"});
  }
  const std::string_view token(header->value().data() + kBearer.size(), header->value().size() - kBearer.size());
  auto credential = self.registry.store().FindAdminCredential(AdminTokenSha256(token));
  if (!credential.ok()) return Error(credential.status());
  if (!*credential) {
    KASSA_LOG_THROTTLED("admin API: refused an unknown token for " << call.request().method_string() << " "
                                                                   << ForLog(call.request().target()));
    return Error(http::ApiError{401, "unauthenticated", "credentials", "the admin token is not known"});
  }
  if (call.access() == "admin" && (*credential)->role != kAdminRole) {
    return Error(http::ApiError{403, "permission_denied", "credentials", "this token is read-only"});
  }
  call.identity = std::move(**credential);
  return std::nullopt;
}

}  // namespace

std::unique_ptr<http::Router> MakeAdminRouter(AdminContext& context) {
  AdminContext* c = &context;
  return std::make_unique<http::Router>("kassa-hq", "/v1/", http::Bind(kAdminRoutes, context),
                                        [c](Call& call) { return AdminGuard(*c, call); }, nullptr,
                                        &context.route_metrics);
}

std::vector<http::RouteInfo> AdminRouteTable() { return http::Describe(kAdminRoutes); }

}  // namespace kassa::hq
