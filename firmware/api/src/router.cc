#include "router.h"

#include <charconv>
#include <functional>
#include <memory>

#include "json_mapping.h"
#include "route_reply.h"
#include "kassa/config/store_config_json.h"
#include "kassa/base/log.h"

namespace kassa::api {
namespace json = boost::json;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kPrefix = "/v1/";

using kassa::http::PercentDecode;
using kassa::http::QueryParam;

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

}  // namespace

void Router::Handle(const Request& req, kassa::http::Respond respond) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const bhttp::verb method = req.method();
  // Everything outside /v1/ is the screens' files.
  if (path.substr(0, kPrefix.size()) != kPrefix) return respond(ui_.Serve(req, path));
  // Sends a reply now or, for calls to headquarters, later.
  const auto send = std::make_shared<std::function<void(Reply)>>(
      [respond = std::move(respond), version = req.version(), keep_alive = req.keep_alive(),
       what = std::string(req.method_string()) + " " + std::string(path)](Reply reply) {
        if (reply.status >= 500) KASSA_LOG(kError) << what << " -> " << reply.status;
        respond(kassa::http::JsonResponse(reply.status, json::serialize(reply.body), version, keep_alive));
      });

  const auto reply = [&]() -> std::optional<Reply> {
    const std::string_view route = path.substr(kPrefix.size());

    if (route == "health") {
      if (method != bhttp::verb::get) return MethodNotAllowed();
      return Reply{200, json::object{{"status", "ok"}, {"service", "kassad"}, {"api", "v1"}}};
    }
    if (auto answered = clienteling_.Handle(req, route, query)) return answered;
    // Every route below that reads or changes customer data runs as a signed-in operator.
    const bool customer_data = route == "customers" || route.substr(0, 10) == "customers/" || route == "quarantine";
    std::optional<clienteling::Caller> caller;
    if (customer_data) {
      auto auth = clienteling_.Authenticate(req);
      if (auto* refused = std::get_if<Reply>(&auth)) return std::move(*refused);
      caller = std::move(std::get<clienteling::Caller>(auth));
    }
    const auto require = [&](model::Permission p) -> std::optional<Reply> {
      const Status s = clienteling::OperatorSessions::Require(*caller, p);
      if (s.ok()) return std::nullopt;
      return Error(ApiError{403, "permission_denied", "permission",
                            std::string("the operator's role does not allow ") + model::ToString(p)});
    };
    if (route == "store") {
      if (method != bhttp::verb::get) return MethodNotAllowed();
      return Reply{200, config::StoreConfigToJson(customers_.store_config())};
    }
    if (route == "status" || route == "outbox") {
      if (method != bhttp::verb::get) return MethodNotAllowed();
      auto stats = diagnostics_.Stats();
      if (!stats.ok()) return Error(stats.status());
      json::object outbox{{"length", stats->outbox_length}};
      outbox["oldest"] = stats->oldest ? json::value(OutboxEntryJson(*stats->oldest, clock_.NowMs())) : json::value(nullptr);
      if (route == "outbox") return Reply{200, std::move(outbox)};
      const model::StoreConfig& cfg = customers_.store_config();
      return Reply{200, json::object{{"terminal_id", customers_.terminal_id()},
                                {"store_id", cfg.store_id},
                                {"creation_mode", model::ToString(cfg.creation_mode)},
                                {"headquarters", customers_.headquarters() == nullptr ? "not configured"
                                                 : customers_.headquarters()->online() ? "online" : "offline"},
                                {"customers", stats->customers},
                                {"pending_customers", stats->pending_customers},
                                {"outbox", std::move(outbox)},
                                {"storage", json::object{{"map_size_bytes", stats->map_size_bytes},
                                                         {"used_bytes", stats->used_bytes}}}}};
    }
    if (route == "sync") {
      if (method == bhttp::verb::post) {
        if (customers_.headquarters() == nullptr) {
          return Error(ApiError{503, "unavailable", "headquarters", "not configured: start kassad with --hq HOST:PORT"});
        }
        customers_.headquarters()->SyncNow();
      } else if (method != bhttp::verb::get) {
        return MethodNotAllowed();
      }
      auto stats = diagnostics_.Stats();
      if (!stats.ok()) return Error(stats.status());
      return Reply{method == bhttp::verb::post ? 202u : 200u, SyncJson(customers_, *stats, clock_.NowMs())};
    }
    if (route == "quarantine") {
      if (method != bhttp::verb::get) return MethodNotAllowed();
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
    if (route == "doctor") {
      if (method != bhttp::verb::get) return MethodNotAllowed();
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
    if (route == "customers") {
      if (method == bhttp::verb::get) {
        const auto q = QueryParam(query, "q");
        if (!q) return Error(ApiError{400, "invalid_argument", "q", "required: the search text"});
        std::size_t limit = customers::CustomerService::kDefaultSearchLimit;
        if (const auto l = QueryParam(query, "limit")) {
          const auto r = std::from_chars(l->data(), l->data() + l->size(), limit);
          if (r.ec != std::errc() || r.ptr != l->data() + l->size()) {
            return Error(ApiError{400, "invalid_argument", "limit", "must be a number from 1 to 100"});
          }
        }
        const std::string scope = QueryParam(query, "scope").value_or("terminal");
        if (scope == "chain") {
          customers_.SearchChain(*q, limit, [send](Result<std::vector<model::Customer>> found) {
            if (!found.ok()) return (*send)(Error(found.status()));
            json::array out;
            for (const auto& c : *found) out.push_back(json::object{{"customer", CustomerJson(c)}});
            (*send)(Reply{200, json::object{{"scope", "chain"}, {"results", std::move(out)}}});
          });
          return std::nullopt;
        }
        if (scope != "terminal") return Error(ApiError{400, "invalid_argument", "scope", "must be terminal or chain"});
        auto results = customers_.Search(*q, limit);
        if (!results.ok()) return Error(results.status());
        return Reply{200, json::object{{"scope", "terminal"}, {"results", ResultsJson(*results)}}};
      }
      if (method == bhttp::verb::post) {
        json::value body;
        if (auto err = ParseBody(req, body)) return Error(*err);
        customers::CustomerPatch patch;
        if (auto err = ParsePatch(body, patch, nullptr)) return Error(*err);
        if (auto refused = require(model::Permission::kCreateCustomer)) return refused;
        if (patch.attributes) {
          if (auto bad = CheckAttributes(*caller, *patch.attributes)) return bad;
        }
        const bool print = QueryParam(query, "print_receipt").value_or("") == "true";
        if (print && devices_ == nullptr) {
          return Error(ApiError{409, "failed_precondition", "printer", "no receipt printer is fitted to this terminal"});
        }
        devices::DeviceFlows* devices = devices_;
        customers_.CreateAsync(patch, caller->op.worker_id, [send, print, devices](Result<model::Customer> created) {
          if (!created.ok()) return (*send)(Error(created.status()));
          if (!print) return (*send)(Reply{201, CustomerJson(*created)});
          const model::Customer c = *created;
          // The customer exists whatever the printer does; the answer says what it did.
          devices->PrintSignUpReceipt(c.id.ToHex(), [send, c](Status printed) {
            json::object answer = CustomerJson(c);
            answer["receipt"] = printed.ok() ? "printed"
                              : printed.code() == StatusCode::kUnavailable
                                  ? "waiting: prints when the printer is back"
                                  : std::string("not printed: ") + printed.detail();
            (*send)(Reply{201, std::move(answer)});
          });
        });
        return std::nullopt;
      }
      return MethodNotAllowed();
    }
    if (route == "devices") {
      if (method != bhttp::verb::get) return MethodNotAllowed();
      json::object devices;
      if (devices_ != nullptr) {
        for (const auto& [name, status] : devices_->Statuses()) devices[name] = DeviceStatusJson(status);
      }
      return Reply{200, json::object{{"devices", std::move(devices)}}};
    }
    if (route.substr(0, 10) == "customers/" && route.size() > 18 && route.substr(route.size() - 8) == "/receipt") {
      if (method != bhttp::verb::post) return MethodNotAllowed();
      if (devices_ == nullptr) {
        return Error(ApiError{409, "failed_precondition", "printer", "no receipt printer is fitted to this terminal"});
      }
      const std::string ref = PercentDecode(route.substr(10, route.size() - 18));
      devices_->PrintSignUpReceipt(ref, [send](Status printed) {
        if (printed.ok()) return (*send)(Reply{200, json::object{{"receipt", "printed"}}});
        if (printed.code() == StatusCode::kUnavailable) {
          return (*send)(Reply{503, ErrorJson(ApiError{503, "unavailable", "printer",
                                                       std::string(printed.message()) +
                                                           "; the receipt prints when the printer is back"})});
        }
        (*send)(Error(printed));
      });
      return std::nullopt;
    }
    if (route.substr(0, 10) == "customers/") {
      const std::string ref = PercentDecode(route.substr(10));
      if (ref.empty() || ref.find('/') != std::string::npos) return NotFoundRoute();
      if (method == bhttp::verb::get) {
        auto c = customers_.Find(ref);
        if (!c.ok()) return Error(c.status());
        return Reply{200, CustomerJson(*c)};
      }
      if (method == bhttp::verb::patch) {
        json::value body;
        if (auto err = ParseBody(req, body)) return Error(*err);
        customers::CustomerPatch patch;
        std::uint32_t version = 0;
        if (auto err = ParsePatch(body, patch, &version)) return Error(*err);
        if (auto refused = require(model::Permission::kEditCustomer)) return refused;
        if (patch.attributes) {
          if (auto bad = CheckAttributes(*caller, *patch.attributes)) return bad;
        }
        auto c = customers_.Edit(ref, patch, version, caller->op.worker_id);
        if (!c.ok()) return Error(c.status());
        return Reply{200, CustomerJson(*c)};
      }
      return MethodNotAllowed();
    }
    return NotFoundRoute();
  }();

  if (reply) (*send)(std::move(*reply));
}

}  // namespace kassa::api
