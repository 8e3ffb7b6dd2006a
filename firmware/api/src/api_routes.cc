#include "api_routes.h"

#include <charconv>
#include <functional>
#include <memory>

#include "json_mapping.h"
#include "kassa/base/log.h"
#include "kassa/config/store_config_json.h"
#include "kassa/http/customer_json.h"

namespace kassa::api {
namespace json = boost::json;
using http::CustomerJson;
using http::Error;
using http::Invalid;
using http::IsoTime;
using http::RouteOf;
using http::Verb;

namespace {

// The access words ClientelingRoutes::Guard understands: "public", "session"
// (a signed-in operator) or the name of a model::Permission.
constexpr RouteOf<ApiRoutes> kCoreRoutes[] = {
    {Verb::get, "/v1/health", "public", &ApiRoutes::Health},
    {Verb::get, "/v1/store", "public", &ApiRoutes::Store},
    {Verb::get, "/v1/status", "public", &ApiRoutes::StatusReport},
    {Verb::get, "/v1/outbox", "public", &ApiRoutes::Outbox},
    {Verb::get, "/v1/sync", "public", &ApiRoutes::SyncStatus},
    {Verb::post, "/v1/sync", "public", &ApiRoutes::SyncNow},
    {Verb::get, "/v1/quarantine", "session", &ApiRoutes::Quarantine},
    {Verb::get, "/v1/doctor", "public", &ApiRoutes::Doctor},
    {Verb::get, "/v1/devices", "public", &ApiRoutes::Devices},
    {Verb::get, "/v1/customers", "session", &ApiRoutes::Search},
    {Verb::post, "/v1/customers", "create_customer", &ApiRoutes::Create},
    {Verb::get, "/v1/customers/{ref}", "session", &ApiRoutes::Show},
    {Verb::patch, "/v1/customers/{ref}", "edit_customer", &ApiRoutes::Edit},
    {Verb::post, "/v1/customers/{ref}/receipt", "session", &ApiRoutes::Receipt},
};

constexpr RouteOf<ClientelingRoutes> kClientelingRoutes[] = {
    {Verb::post, "/v1/session", "public", &ClientelingRoutes::SignIn},
    {Verb::get, "/v1/session", "session", &ClientelingRoutes::SessionInfo},
    {Verb::delete_, "/v1/session", "session", &ClientelingRoutes::SignOut},
    {Verb::get, "/v1/clienteling", "session", &ClientelingRoutes::Configuration},
    {Verb::get, "/v1/operators", "session", &ClientelingRoutes::Operators},
    {Verb::get, "/v1/clientbook", "session", &ClientelingRoutes::Book},
    {Verb::post, "/v1/clientbook/entries", "session", &ClientelingRoutes::AddToBook},
    {Verb::delete_, "/v1/clientbook/entries/{ref}", "session", &ClientelingRoutes::RemoveFromBook},
    {Verb::post, "/v1/clientbook/reassign", "session", &ClientelingRoutes::Reassign},
    {Verb::get, "/v1/customers/{ref}/card", "session", &ClientelingRoutes::Card},
    {Verb::get, "/v1/customers/{ref}/timeline", "session", &ClientelingRoutes::Timeline},
    {Verb::post, "/v1/customers/{ref}/activities", "session", &ClientelingRoutes::AddActivity},
    {Verb::post, "/v1/customers/{ref}/notes", "session", &ClientelingRoutes::AddNote},
};

json::value SyncJson(customers::CustomerService& customers, const storage::StoreStats& stats, std::int64_t now_ms) {
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
      {"last_ack_at", stats.last_ack_at_ms == 0 ? json::value(nullptr) : json::value(IsoTime(stats.last_ack_at_ms))},
      {"distribution_cursor", stats.distribution_cursor}};
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

}  // namespace

ApiRoutes::ApiRoutes(customers::CustomerService& customers, storage::Diagnostics& diagnostics,
                     storage::QuarantineView& quarantine, Clock& clock, devices::DeviceFlows* devices,
                     clienteling::OperatorSessions& sessions, clienteling::ClientelingService& clienteling,
                     std::string ui_root)
    : customers_(customers),
      diagnostics_(diagnostics),
      quarantine_(quarantine),
      clock_(clock),
      devices_(devices),
      clienteling_(sessions, clienteling),
      ui_(std::move(ui_root)) {
  std::vector<http::Route> routes = http::Bind(kClientelingRoutes, clienteling_);
  for (auto& r : http::Bind(kCoreRoutes, *this)) routes.push_back(std::move(r));
  router_ = std::make_unique<http::Router>(
      "kassad", "/v1/", std::move(routes), [this](Call& call) { return clienteling_.Guard(call); },
      [this](const http::Request& request, http::Respond respond) {
        const std::string_view target(request.target().data(), request.target().size());
        respond(ui_.Serve(request, target.substr(0, target.find('?'))));
      });
}

std::vector<http::RouteInfo> ApiRoutes::Table() {
  std::vector<http::RouteInfo> table = http::Describe(kClientelingRoutes);
  for (const auto& r : http::Describe(kCoreRoutes)) table.push_back(r);
  return table;
}

std::optional<Reply> ApiRoutes::Health(Call&) {
  return Reply{200, json::object{{"status", "ok"}, {"service", "kassad"}, {"api", "v1"}}};
}

std::optional<Reply> ApiRoutes::Store(Call&) { return Reply{200, config::StoreConfigToJson(customers_.store_config())}; }

std::optional<Reply> ApiRoutes::StatusReport(Call&) {
  auto stats = diagnostics_.Stats();
  if (!stats.ok()) return Error(stats.status());
  const model::StoreConfig& cfg = customers_.store_config();
  return Reply{200, json::object{{"terminal_id", customers_.terminal_id()},
                                 {"store_id", cfg.store_id},
                                 {"creation_mode", model::ToString(cfg.creation_mode)},
                                 {"headquarters", customers_.headquarters() == nullptr ? "not configured"
                                                  : customers_.headquarters()->online() ? "online" : "offline"},
                                 {"customers", stats->customers},
                                 {"pending_customers", stats->pending_customers},
                                 {"outbox", OutboxJson(*stats, clock_.NowMs())},
                                 {"storage", json::object{{"map_size_bytes", stats->map_size_bytes},
                                                          {"used_bytes", stats->used_bytes}}}}};
}

std::optional<Reply> ApiRoutes::Outbox(Call&) {
  auto stats = diagnostics_.Stats();
  if (!stats.ok()) return Error(stats.status());
  return Reply{200, OutboxJson(*stats, clock_.NowMs())};
}

std::optional<Reply> ApiRoutes::SyncStatus(Call&) {
  auto stats = diagnostics_.Stats();
  if (!stats.ok()) return Error(stats.status());
  return Reply{200, SyncJson(customers_, *stats, clock_.NowMs())};
}

std::optional<Reply> ApiRoutes::SyncNow(Call&) {
  if (customers_.headquarters() == nullptr) {
    return Error(http::ApiError{503, "unavailable", "headquarters", "not configured: start kassad with --hq HOST:PORT"});
  }
  customers_.headquarters()->SyncNow();
  auto stats = diagnostics_.Stats();
  if (!stats.ok()) return Error(stats.status());
  return Reply{202, SyncJson(customers_, *stats, clock_.NowMs())};
}

std::optional<Reply> ApiRoutes::Quarantine(Call&) {
  auto entries = quarantine_.Quarantined(100);
  if (!entries.ok()) return Error(entries.status());
  json::array out;
  for (const auto& e : *entries) {
    out.push_back(json::object{{"seq", e.seq},
                               {"rejected_at", IsoTime(e.rejected_at_ms)},
                               {"reason", e.reason},
                               {"operation", OutboxEntryJson({e.seq, e.operation}, clock_.NowMs())}});
  }
  return Reply{200, json::object{{"quarantined", std::move(out)}}};
}

std::optional<Reply> ApiRoutes::Doctor(Call&) {
  auto report = diagnostics_.Check();
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

std::optional<Reply> ApiRoutes::Devices(Call&) {
  json::object devices;
  if (devices_ != nullptr) {
    for (const auto& [name, status] : devices_->Statuses()) devices[name] = DeviceStatusJson(status);
  }
  return Reply{200, json::object{{"devices", std::move(devices)}}};
}

std::optional<Reply> ApiRoutes::Search(Call& call) {
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
    customers_.SearchChain(*q, limit, [send = call.Later()](Result<std::vector<model::Customer>> found) {
      if (!found.ok()) return send(Error(found.status()));
      json::array out;
      for (const auto& c : *found) out.push_back(json::object{{"customer", CustomerJson(c)}});
      send(Reply{200, json::object{{"scope", "chain"}, {"results", std::move(out)}}});
    });
    return std::nullopt;
  }
  if (scope != "terminal") return Invalid("scope", "must be terminal or chain");
  auto results = customers_.Search(*q, limit);
  if (!results.ok()) return Error(results.status());
  return Reply{200, json::object{{"scope", "terminal"}, {"results", ResultsJson(*results)}}};
}

std::optional<Reply> ApiRoutes::Create(Call& call) {
  auto body = http::ParseJsonObject(call.request());
  if (!body.ok()) return Error(body.status());
  customers::CustomerPatch patch;
  std::string field;
  if (Status s = ParsePatch(*body, patch, nullptr, field); !s.ok()) return Error(s, field);
  const clienteling::Caller& caller = CallerOf(call);
  if (patch.attributes) {
    if (auto bad = CheckAttributes(caller, *patch.attributes)) return bad;
  }
  const bool print = call.query("print_receipt").value_or("") == "true";
  if (print && devices_ == nullptr) return NoPrinter();
  devices::DeviceFlows* devices = devices_;
  customers_.CreateAsync(patch, caller.op.worker_id, [send = call.Later(), print, devices](Result<model::Customer> created) {
    if (!created.ok()) return send(Error(created.status()));
    if (!print) return send(Reply{201, CustomerJson(*created)});
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

std::optional<Reply> ApiRoutes::Show(Call& call) {
  auto c = customers_.Find(call.param(0));
  if (!c.ok()) return Error(c.status());
  return Reply{200, CustomerJson(*c)};
}

std::optional<Reply> ApiRoutes::Edit(Call& call) {
  auto body = http::ParseJsonObject(call.request());
  if (!body.ok()) return Error(body.status());
  customers::CustomerPatch patch;
  std::uint32_t version = 0;
  std::string field;
  if (Status s = ParsePatch(*body, patch, &version, field); !s.ok()) return Error(s, field);
  const clienteling::Caller& caller = CallerOf(call);
  if (patch.attributes) {
    if (auto bad = CheckAttributes(caller, *patch.attributes)) return bad;
  }
  auto c = customers_.Edit(call.param(0), patch, version, caller.op.worker_id);
  if (!c.ok()) return Error(c.status());
  return Reply{200, CustomerJson(*c)};
}

std::optional<Reply> ApiRoutes::Receipt(Call& call) {
  if (devices_ == nullptr) return NoPrinter();
  devices_->PrintSignUpReceipt(call.param(0), [send = call.Later()](kassa::Status printed) {
    if (printed.ok()) return send(Reply{200, json::object{{"receipt", "printed"}}});
    if (printed.code() == StatusCode::kUnavailable) {
      return send(Error(http::ApiError{503, "unavailable", "printer",
                                       std::string(printed.message()) + "; the receipt prints when the printer is back"}));
    }
    send(Error(printed));
  });
  return std::nullopt;
}

}  // namespace kassa::api
