#include "api_routes.h"

#include <charconv>
#include <memory>

#include "clienteling_routes.h"
#include "json_mapping.h"
#include "sealed_routes.h"
#include "kassa/base/log.h"
#include "kassa/config/store_config_json.h"
#include "kassa/http/customer_json.h"
#include "kassa/http/metrics_text.h"

namespace kassa::api {
namespace json = boost::json;
using http::CustomerJson;
using http::Error;
using http::Invalid;
using http::IsoTime;
using http::RouteOf;
using http::Verb;

namespace {

// The disk under the store: "ok", or "failing" while it keeps failing writes
// (storage::StorageHealth).
json::object StorageHealthJson(const storage::StorageHealth& health) {
  return json::object{
      {"state", health.failing ? "failing" : "ok"},
      {"failed_commits", health.failed_commits},
      {"reopens", health.reopens},
      {"last_failure", health.last_failure.empty() ? json::value(nullptr) : json::value(health.last_failure)},
      {"last_failure_at", health.last_failure_at_ms == 0 ? json::value(nullptr) : json::value(IsoTime(health.last_failure_at_ms))}};
}

json::value SyncJson(customers::CustomerService& customers, const storage::StoreStats& stats,
                     const storage::StorageHealth& health, std::int64_t now_ms) {
  const model::StoreConfig& cfg = customers.store_config();
  const customers::Headquarters* hq = customers.headquarters();
  const bool online = hq != nullptr && hq->online();
  json::value link = nullptr;
  if (hq != nullptr) {
    const customers::LinkState st = hq->state();
    link = json::object{{"address", st.address},
                        {"online", st.online},
                        {"online_since", st.online ? json::value(IsoTime(st.online_since_ms)) : json::value(nullptr)},
                        {"connects", st.connects},
                        {"last_failure", st.last_failure.empty() ? json::value(nullptr) : json::value(st.last_failure)},
                        {"last_failure_at", st.last_failure_ms == 0 ? json::value(nullptr) : json::value(IsoTime(st.last_failure_ms))}};
  }
  // Sync mode falls back to async by itself while headquarters is offline.
  const bool effective_sync = cfg.creation_mode == model::CreationMode::kSync && online;
  json::object outbox{{"length", stats.outbox_length}};
  outbox["oldest"] = stats.oldest ? json::value(OutboxEntryJson(*stats.oldest, now_ms)) : json::value(nullptr);
  return json::object{
      {"online", online},
      {"headquarters", std::move(link)},
      {"configured_mode", model::ToString(cfg.creation_mode)},
      {"effective_mode", effective_sync ? "sync" : "async"},
      {"allow_offline_creation", cfg.allow_offline_creation},
      {"pending_customers", stats.pending_customers},
      {"outbox", std::move(outbox)},
      {"oldest_pending_age_ms", stats.oldest ? json::value(now_ms - stats.oldest->operation.enqueued_at_ms) : json::value(nullptr)},
      {"quarantined", stats.quarantined},
      {"access_events_queued", stats.access_events},
      {"last_ack_at", stats.last_ack_at_ms == 0 ? json::value(nullptr) : json::value(IsoTime(stats.last_ack_at_ms))},
      {"distribution_cursor", stats.distribution_cursor},
      {"storage", StorageHealthJson(health)}};
}

json::array ResultsJson(const std::vector<customers::SearchResult>& results) {
  json::array out;
  for (const auto& r : results) {
    out.push_back(json::object{{"customer", CustomerJson(r.customer)},
                               {"matched", search::ToString(r.matched)},
                               {"score", r.score}});
  }
  return out;
}

json::object OutboxJson(const storage::StoreStats& stats, std::int64_t now_ms) {
  json::object outbox{{"length", stats.outbox_length}};
  outbox["oldest"] = stats.oldest ? json::value(OutboxEntryJson(*stats.oldest, now_ms)) : json::value(nullptr);
  return outbox;
}

Reply NoPrinter() {
  return Error(http::ApiError{409, "failed_precondition", "printer", "no receipt printer is fitted to this terminal"});
}

std::optional<Reply> Health(ApiContext&, Call&) {
  return Reply{200, json::object{{"status", "ok"}, {"service", "kassad"}, {"api", "v1"}}};
}

std::optional<Reply> Store(ApiContext& self, Call&) { return Reply{200, config::StoreConfigToJson(self.customers.store_config())}; }

json::object Storage(const storage::StoreStats& stats, const storage::StorageHealth& health) {
  json::object out = StorageHealthJson(health);
  out["map_size_bytes"] = stats.map_size_bytes;
  out["used_bytes"] = stats.used_bytes;
  return out;
}

std::optional<Reply> StatusReport(ApiContext& self, Call&) {
  auto stats = self.diagnostics.Stats();
  if (!stats.ok()) return Error(stats.status());
  const model::StoreConfig& cfg = self.customers.store_config();
  json::array warnings;
  for (std::string& w : model::StoreConfigWarnings(cfg)) warnings.emplace_back(std::move(w));
  return Reply{200, json::object{{"terminal_id", self.customers.terminal_id()},
                                 {"access", AccessJson(self.customers.access())},
                                 {"store_id", cfg.store_id},
                                 {"creation_mode", model::ToString(cfg.creation_mode)},
                                 {"headquarters", self.customers.headquarters() == nullptr ? "not configured"
                                                  : self.customers.headquarters()->online() ? "online" : "offline"},
                                 {"customers", stats->customers},
                                 {"pending_customers", stats->pending_customers},
                                 {"outbox", OutboxJson(*stats, self.clock.NowMs())},
                                 {"storage", Storage(*stats, self.diagnostics.Health())},
                                 {"warnings", std::move(warnings)}}};
}

// The store's counts, as gauges.
void StoreMetrics(http::MetricsText& m, const storage::StoreStats& stats, std::int64_t now) {
  m.Gauge("kassa_customers", "Customers held on this terminal.", static_cast<double>(stats.customers));
  m.Gauge("kassa_pending_customers", "Customers created here still waiting for their account number.",
        static_cast<double>(stats.pending_customers));
  m.Gauge("kassa_outbox_operations", "Operations waiting to be uploaded to headquarters.",
        static_cast<double>(stats.outbox_length));
  m.Gauge("kassa_outbox_oldest_age_seconds", "Age of the oldest operation waiting (0 when none waits).",
        stats.oldest ? static_cast<double>(now - stats.oldest->operation.enqueued_at_ms) / 1000.0 : 0.0);
  m.Gauge("kassa_quarantined_operations", "Operations headquarters rejected, kept for people to see.",
        static_cast<double>(stats.quarantined));
  m.Gauge("kassa_access_events_queued", "Access audit events not yet acknowledged by headquarters.",
        static_cast<double>(stats.access_events));
  m.Gauge("kassa_distribution_cursor", "The last change of headquarters' log applied here.",
        static_cast<double>(stats.distribution_cursor));
  m.Gauge("kassa_last_ack_timestamp_seconds", "When headquarters last acknowledged an upload (0: never).",
        static_cast<double>(stats.last_ack_at_ms) / 1000.0);
  m.Gauge("kassa_storage_used_bytes", "Pages in use in the data file.", static_cast<double>(stats.used_bytes));
  m.Gauge("kassa_storage_map_bytes", "The data file's size limit.", static_cast<double>(stats.map_size_bytes));
}

// The terminal for a fleet's Prometheus: what status and sync say, as
// gauges and counters (docs/OPERATIONS.md lists them).
std::optional<Reply> Metrics(ApiContext& self, Call&) {
  const storage::StorageHealth health = self.diagnostics.Health();
  auto stats = self.diagnostics.Stats();
  if (!stats.ok() && !health.failing) return Error(stats.status());
  const std::int64_t now = self.clock.NowMs();
  http::MetricsText m;
  m.Gauge("kassa_storage_failing", "1 while the disk keeps failing the store's writes (nothing new is saved).",
        health.failing ? 1 : 0);
  m.Counter("kassa_storage_failed_commits_total", "Commits the disk failed since the start (each reopened the store).",
          static_cast<double>(health.failed_commits));
  if (stats.ok()) StoreMetrics(m, *stats, now);
  if (const customers::Headquarters* hq = self.customers.headquarters()) {
    const customers::LinkState link = hq->state();
    m.Gauge("kassa_headquarters_up", "1 while the link to headquarters is up.", link.online ? 1 : 0);
    m.Counter("kassa_headquarters_connects_total", "Connections to headquarters made since the start.",
            static_cast<double>(link.connects));
  }
  m.Family("kassa_access_state", "gauge", "1 for the state the terminal is in: open, locked (offline too long) or wiped.");
  for (const customers::AccessState s : {customers::AccessState::kOpen, customers::AccessState::kLocked,
                                         customers::AccessState::kWiped}) {
    m.Sample({{"state", customers::ToString(s)}}, self.customers.access().state == s ? 1 : 0);
  }
  m.Counter("kassa_sign_in_wrong_pins_total", "PINs found wrong since the start.",
          static_cast<double>(self.sessions.wrong_pins()));
  m.Counter("kassa_operator_lockouts_total", "Operators locked out after too many wrong PINs since the start.",
          static_cast<double>(self.sessions.lockouts_begun()));
  if (self.devices != nullptr) {
    m.Family("kassa_device_ready", "gauge", "1 while the device is present and working.");
    for (const auto& [name, status] : self.devices->Statuses()) {
      m.Sample({{"device", name}}, status.state == hal::DeviceStatus::State::kReady ? 1 : 0);
    }
  }
  self.route_metrics.Write(m, "kassa");
  Reply reply;
  reply.content_type = std::string(http::kMetricsContentType);
  reply.text = m.str();
  return reply;
}

std::optional<Reply> Outbox(ApiContext& self, Call&) {
  auto stats = self.diagnostics.Stats();
  if (!stats.ok()) return Error(stats.status());
  return Reply{200, OutboxJson(*stats, self.clock.NowMs())};
}

std::optional<Reply> SyncStatus(ApiContext& self, Call&) {
  auto stats = self.diagnostics.Stats();
  if (!stats.ok()) return Error(stats.status());
  return Reply{200, SyncJson(self.customers, *stats, self.diagnostics.Health(), self.clock.NowMs())};
}

std::optional<Reply> SyncNow(ApiContext& self, Call&) {
  if (self.customers.headquarters() == nullptr) {
    return Error(http::ApiError{503, "unavailable", "headquarters", "not configured: start kassad with --hq HOST:PORT"});
  }
  self.customers.headquarters()->SyncNow();
  auto stats = self.diagnostics.Stats();
  if (!stats.ok()) return Error(stats.status());
  return Reply{202, SyncJson(self.customers, *stats, self.diagnostics.Health(), self.clock.NowMs())};
}

// The operations headquarters rejected; `?customer=ID` only those of one
// customer (its screen asks, and lists no one else in the access trail).
std::optional<Reply> Quarantine(ApiContext& self, Call& call) {
  std::optional<model::LocalId> only;
  if (const auto c = call.query("customer")) {
    only = model::LocalId::FromHex(*c);
    if (!only) return Invalid("customer", "must be a customer id (32 hex digits)");
  }
  auto entries = self.quarantine.Quarantined(100);
  if (!entries.ok()) return Error(entries.status());
  json::array out;
  std::vector<model::LocalId> listed;
  for (const auto& e : *entries) {
    if (only && e.operation.customer.id != *only) continue;
    out.push_back(json::object{{"seq", e.seq},
                               {"rejected_at", IsoTime(e.rejected_at_ms)},
                               {"reason", e.reason},
                               {"customer_name", model::DisplayName(e.operation.customer)},
                               {"operation", OutboxEntryJson({e.seq, e.operation}, self.clock.NowMs())}});
    listed.push_back(e.operation.customer.id);
  }
  self.access.Record(model::AccessAction::kListed, ActorOf(call), listed);
  return Reply{200, json::object{{"quarantined", std::move(out)}}};
}

// The customer fields of the request's body (and the version an edit starts
// from, when `version` is given), checked: each attribute one the caller may
// set. Returns the error reply when they are not good.
std::optional<Reply> ReadPatch(Call& call, customers::CustomerPatch& patch, std::uint32_t* version) {
  auto body = http::ParseJsonObject(call.request());
  if (!body.ok()) return Error(body.status());
  std::string field;
  if (Status s = ParsePatch(*body, patch, version, field); !s.ok()) return Error(s, field);
  if (patch.attributes) {
    if (auto bad = CheckAttributes(CallerOf(call), *patch.attributes)) return bad;
  }
  return std::nullopt;
}

// The quarantine entry the path's {ref} names. Returns: kOk; kNotFound
// "quarantine: ..." when {ref} is not a number or names no entry.
Result<storage::QuarantineEntry> RejectedOf(ApiContext& self, Call& call) {
  const std::string_view text = call.param(0);
  std::uint64_t seq = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size()) {
    return Status(StatusCode::kNotFound, "quarantine: no such rejected operation");
  }
  return self.quarantine.Entry(seq);
}

// A rejected creation or edit fixed and sent again: the body holds the
// fields to change (as an edit, without a version).
std::optional<Reply> Resend(ApiContext& self, Call& call) {
  auto rejected = RejectedOf(self, call);
  if (!rejected.ok()) return Error(rejected.status());
  customers::CustomerPatch patch;
  if (auto bad = ReadPatch(call, patch, nullptr)) return bad;
  auto c = self.customers.ResendRejected(*rejected, patch, CallerOf(call).op.worker_id);
  if (!c.ok()) return Error(c.status());
  return Reply{202, CustomerJson(*c)};
}

// A rejected operation given up: a creation's customer removed from this
// terminal, an edit's customer back to headquarters' values (online only).
std::optional<Reply> Discard(ApiContext& self, Call& call) {
  auto rejected = RejectedOf(self, call);
  if (!rejected.ok()) return Error(rejected.status());
  self.customers.DiscardRejected(*rejected, CallerOf(call).op.worker_id,
                                 [send = call.Later(), seq = rejected->seq](Status s) {
    if (!s.ok()) return send(Error(s));
    send(Reply{200, json::object{{"discarded", seq}}});
  });
  return std::nullopt;
}

std::optional<Reply> Doctor(ApiContext& self, Call&) {
  auto report = self.diagnostics.Check();
  if (!report.ok()) return Error(report.status());
  json::array problems;
  for (const auto& p : report->problems) problems.emplace_back(p);
  return Reply{200, json::object{{"ok", report->ok()},
                                 {"customers", report->customers},
                                 {"index_entries", report->index_entries},
                                 {"outbox_entries", report->outbox_entries},
                                 {"quarantined", report->quarantined},
                                 {"problems", std::move(problems)}}};
}

std::optional<Reply> Devices(ApiContext& self, Call&) {
  json::object devices;
  if (self.devices != nullptr) {
    for (const auto& [name, status] : self.devices->Statuses()) devices[name] = DeviceStatusJson(status);
  }
  return Reply{200, json::object{{"devices", std::move(devices)}}};
}

std::optional<Reply> Search(ApiContext& self, Call& call) {
  const auto q = call.query("q");
  if (!q) return Invalid("q", "required: the search text");
  std::size_t limit = customers::CustomerService::kDefaultSearchLimit;
  if (const auto l = call.query("limit")) {
    const auto r = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (r.ec != std::errc() || r.ptr != l->data() + l->size()) {
      return Invalid("limit", "must be a number from 1 to 100");
    }
  }
  const std::string scope = call.query("scope").value_or("terminal");
  if (scope == "chain") {
    customers::AccessRecorder* access = &self.access;
    self.customers.SearchChain(*q, limit, [send = call.Later(), access, actor = std::string(ActorOf(call))](
                                              Result<std::vector<model::Customer>> found) {
      if (!found.ok()) return send(Error(found.status()));
      std::vector<model::LocalId> listed;
      for (const auto& c : *found) listed.push_back(c.id);
      access->Record(model::AccessAction::kListed, actor, listed);
      json::array out;
      for (const auto& c : *found) out.push_back(json::object{{"customer", CustomerJson(c)}});
      send(Reply{200, json::object{{"scope", "chain"}, {"results", std::move(out)}}});
    });
    return std::nullopt;
  }
  if (scope != "terminal") return Invalid("scope", "must be terminal or chain");
  auto results = self.customers.Search(*q, limit);
  if (!results.ok()) return Error(results.status());
  std::vector<model::LocalId> listed;
  for (const auto& r : *results) listed.push_back(r.customer.id);
  self.access.Record(model::AccessAction::kListed, ActorOf(call), listed);
  return Reply{200, json::object{{"scope", "terminal"}, {"results", ResultsJson(*results)}}};
}

// 409 "duplicates": the likely duplicates of a customer about to be created,
// each with its reasons, for the associate to open one or confirm. Showing
// them is a listing in the access trail.
Reply Duplicates(ApiContext& self, Call& call, const std::vector<search::DuplicateCandidate>& found) {
  json::array candidates;
  std::vector<model::LocalId> shown;
  for (const auto& d : found) {
    json::array reasons;
    for (const auto r : d.reasons) reasons.emplace_back(search::ToString(r));
    candidates.push_back(json::object{{"customer", CustomerJson(d.customer)}, {"reasons", std::move(reasons)}});
    shown.push_back(d.customer.id);
  }
  self.access.Record(model::AccessAction::kListed, ActorOf(call), shown);
  Reply reply = Error(http::ApiError{409, "duplicates", "customer",
                                     "likely already a customer: open one of the candidates, or create anyway "
                                     "with confirm_duplicates=true"});
  reply.body.as_object()["candidates"] = std::move(candidates);
  return reply;
}

// A shopper's self sign-up whose email or phone is already registered: said
// without a word of whom it belongs to (kiosk sessions never see others).
Reply AlreadyRegistered(const search::DuplicateCandidate& first) {
  const bool email = first.reasons.front() == search::DuplicateReason::kSameEmail;
  return Error(http::ApiError{409, "already_registered", email ? "email" : "phone",
                              email ? "this email is already registered: please ask a member of staff"
                                    : "this phone number is already registered: please ask a member of staff"});
}

std::optional<Reply> Create(ApiContext& self, Call& call) {
  customers::CustomerPatch patch;
  if (auto bad = ReadPatch(call, patch, nullptr)) return bad;
  const clienteling::Caller& caller = CallerOf(call);
  const std::string confirm = call.query("confirm_duplicates").value_or("false");
  if (confirm != "true" && confirm != "false") return Invalid("confirm_duplicates", "must be true or false");
  // Likely duplicates first, from this terminal's own store (offline too);
  // a kiosk matches on email and phone only and cannot confirm.
  if (confirm == "false" || caller.kiosk) {
    auto found = self.customers.LikelyDuplicates(patch, caller.op.worker_id, /*contacts_only=*/caller.kiosk);
    if (!found.ok()) return Error(found.status());
    if (!found->empty()) return caller.kiosk ? AlreadyRegistered(found->front()) : Duplicates(self, call, *found);
  }
  const bool print = call.query("print_receipt").value_or("") == "true";
  if (print && self.devices == nullptr) return NoPrinter();
  devices::DeviceFlows* devices = self.devices;
  clienteling::OperatorSessions* kiosk = caller.kiosk ? &self.sessions : nullptr;
  customers::AccessRecorder* access = &self.access;
  self.customers.CreateAsync(patch, caller.op.worker_id, [send = call.Later(), print, devices, kiosk, access,
                                                          actor = std::string(ActorOf(call)),
                                                          token = caller.token](Result<model::Customer> created) {
    if (!created.ok()) return send(Error(created.status()));
    if (kiosk != nullptr) kiosk->KioskCreated(token, created->id);
    if (!print) return send(Reply{201, CustomerJson(*created)});
    access->Record(model::AccessAction::kPrinted, actor, created->id);
    const model::Customer c = *created;
    // The customer exists whatever the printer does; the answer says what it did.
    devices->PrintSignUpReceipt(c.id.ToHex(), [send, c](kassa::Status printed) {
      json::object answer = CustomerJson(c);
      answer["receipt"] = printed.ok() ? "printed"
                          : printed.code() == StatusCode::kUnavailable
                              ? "waiting: prints when the printer is back"
                              : std::string("not printed: ") + printed.detail();
      send(Reply{201, std::move(answer)});
    });
  });
  return std::nullopt;
}

// The customer `ref` names, when the caller may see it (a kiosk session
// only its own; to it every other customer is as good as absent).
Result<model::Customer> Visible(ApiContext& self, Call& call) {
  auto c = self.customers.Find(call.param(0));
  if (c.ok() && !CallerOf(call).MaySee(c->id)) {
    return Status(StatusCode::kNotFound, "customer: no customer with this account number or id");
  }
  return c;
}

std::optional<Reply> Show(ApiContext& self, Call& call) {
  auto c = Visible(self, call);
  if (!c.ok()) return Error(c.status());
  self.access.Record(model::AccessAction::kOpened, ActorOf(call), c->id);
  json::object body = CustomerJson(*c);
  // Changes made here that headquarters has not answered yet: until then
  // the values here are not headquarters' (the screens say so).
  const auto queued = self.outbox.QueuedFor(c->id);
  if (!queued.ok()) return Error(queued.status());
  body["queued_changes"] = *queued;
  return Reply{200, std::move(body)};
}

std::optional<Reply> Edit(ApiContext& self, Call& call) {
  customers::CustomerPatch patch;
  std::uint32_t version = 0;
  if (auto bad = ReadPatch(call, patch, &version)) return bad;
  auto c = self.customers.Edit(call.param(0), patch, version, CallerOf(call).op.worker_id);
  if (!c.ok()) return Error(c.status());
  return Reply{200, CustomerJson(*c)};
}

std::optional<Reply> Receipt(ApiContext& self, Call& call) {
  auto c = Visible(self, call);
  if (!c.ok()) return Error(c.status());
  if (self.devices == nullptr) return NoPrinter();
  self.access.Record(model::AccessAction::kPrinted, ActorOf(call), c->id);
  self.devices->PrintSignUpReceipt(c->id.ToHex(), [send = call.Later()](kassa::Status printed) {
    if (printed.ok()) return send(Reply{200, json::object{{"receipt", "printed"}}});
    if (printed.code() == StatusCode::kUnavailable) {
      return send(Error(http::ApiError{503, "unavailable", "printer",
                                       std::string(printed.message()) + "; the receipt prints when the printer is back"}));
    }
    send(Error(printed));
  });
  return std::nullopt;
}

// Every route of kassad, with what its caller needs; the access words
// ClientelingGuard understands: "public", "session" (a signed-in operator)
// or the name of a model::Permission.
constexpr RouteOf<ApiContext> kRoutes[] = {
    {Verb::post, "/v1/session", "public", &SignIn},
    {Verb::post, "/v1/session/swipe", "public", &OpenSwipe},
    {Verb::post, "/v1/session/kiosk", "create_customer", &StartKiosk},
    {Verb::get, "/v1/session", "session", &SessionInfo},
    {Verb::delete_, "/v1/session", "session", &SignOut},
    {Verb::get, "/v1/clienteling", "session", &Configuration},
    {Verb::get, "/v1/consent-texts", "session", &ConsentTexts},
    {Verb::get, "/v1/operators", "session", &Operators},
    {Verb::get, "/v1/clientbook", "session", &Book},
    {Verb::post, "/v1/clientbook/entries", "session", &AddToBook},
    {Verb::delete_, "/v1/clientbook/entries/{ref}", "session", &RemoveFromBook},
    {Verb::post, "/v1/clientbook/reassign", "session", &Reassign},
    {Verb::get, "/v1/customers/{ref}/card", "session", &Card},
    {Verb::get, "/v1/customers/{ref}/timeline", "session", &Timeline},
    {Verb::get, "/v1/customers/{ref}/consents", "session", &Consents},
    {Verb::post, "/v1/customers/{ref}/activities", "session", &AddActivity},
    {Verb::post, "/v1/customers/{ref}/notes", "session", &AddNote},
    {Verb::get, "/v1/health", "public", &Health},
    {Verb::get, "/v1/store", "public", &Store},
    {Verb::get, "/v1/status", "public", &StatusReport},
    {Verb::get, "/v1/metrics", "public", &Metrics},
    {Verb::get, "/v1/outbox", "public", &Outbox},
    {Verb::get, "/v1/sync", "public", &SyncStatus},
    {Verb::post, "/v1/sync", "public", &SyncNow},
    {Verb::get, "/v1/quarantine", "session", &Quarantine},
    {Verb::post, "/v1/quarantine/{ref}/resend", "edit_customer", &Resend},
    {Verb::post, "/v1/quarantine/{ref}/discard", "edit_customer", &Discard},
    {Verb::get, "/v1/doctor", "public", &Doctor},
    {Verb::get, "/v1/devices", "public", &Devices},
    {Verb::get, "/v1/customers", "session", &Search},
    {Verb::post, "/v1/customers", "create_customer", &Create},
    {Verb::get, "/v1/customers/{ref}", "session", &Show},
    {Verb::patch, "/v1/customers/{ref}", "edit_customer", &Edit},
    {Verb::post, "/v1/customers/{ref}/receipt", "session", &Receipt},
};

}  // namespace

std::unique_ptr<http::Router> MakeApiRouter(ApiContext& context) {
  ApiContext* c = &context;
  return std::make_unique<http::Router>(
      "kassad", "/v1/", http::Bind(kRoutes, context), [c](Call& call) { return ClientelingGuard(*c, call); },
      [c](const http::Request& request, http::Respond respond) {
        const std::string_view target(request.target().data(), request.target().size());
        respond(c->ui.Serve(request, target.substr(0, target.find('?'))));
      },
      &context.route_metrics);
}

std::vector<http::RouteInfo> ApiRouteTable() { return http::Describe(kRoutes); }

}  // namespace kassa::api
