#include "router.h"

#include <charconv>

#include "json_mapping.h"
#include "kassa/base/log.h"

namespace kassa::api {
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPrefix = "/v1/";

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

// The value of query parameter `name` in `query` ("a=1&b=2"), if present.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

struct Reply {
  unsigned status;
  json::value body;
};

Reply Error(const ApiError& e) { return {e.http_status, ErrorJson(e)}; }
Reply Error(const Status& s) { return Error(ToApiError(s)); }
Reply NotFoundRoute() {
  return Error(ApiError{404, "not_found", "", "no such API path; see docs/API.md"});
}
Reply MethodNotAllowed() {
  return Error(ApiError{405, "method_not_allowed", "", "this path does not take that method"});
}

std::optional<ApiError> ParseBody(const Request& req, json::value& out) {
  boost::system::error_code ec;
  out = json::parse(req.body(), ec);
  if (ec) return ApiError{400, "invalid_argument", "body", "not valid JSON: " + ec.message()};
  return std::nullopt;
}

std::string OperatorOf(const Request& req) {
  // Until operators sign in (clienteling), the caller names the operator.
  const auto it = req.find("X-Kassa-Operator");
  if (it == req.end() || it->value().empty()) return "local";
  return std::string(it->value().substr(0, 32));
}

}  // namespace

Response JsonResponse(unsigned status, const std::string& body, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "kassad");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = body;
  res.prepare_payload();
  return res;
}

Response Router::Handle(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const http::verb method = req.method();

  const auto reply = [&]() -> Reply {
    if (path.substr(0, kPrefix.size()) != kPrefix) return NotFoundRoute();
    const std::string_view route = path.substr(kPrefix.size());

    if (route == "health") {
      if (method != http::verb::get) return MethodNotAllowed();
      return {200, json::object{{"status", "ok"}, {"service", "kassad"}, {"api", "v1"}}};
    }
    if (route == "store") {
      if (method != http::verb::get) return MethodNotAllowed();
      return {200, StoreConfigJson(customers_.store_config())};
    }
    if (route == "status" || route == "outbox") {
      if (method != http::verb::get) return MethodNotAllowed();
      auto stats = store_.Stats();
      if (!stats.ok()) return Error(stats.status());
      json::object outbox{{"length", stats->outbox_length}};
      outbox["oldest"] = stats->oldest ? json::value(OutboxEntryJson(*stats->oldest, clock_.NowMs())) : json::value(nullptr);
      if (route == "outbox") return {200, std::move(outbox)};
      const model::StoreConfig& cfg = customers_.store_config();
      return {200, json::object{{"terminal_id", customers_.terminal_id()},
                                {"store_id", cfg.store_id},
                                {"creation_mode", model::ToString(cfg.creation_mode)},
                                {"headquarters", "unreachable"},
                                {"customers", stats->customers},
                                {"pending_customers", stats->pending_customers},
                                {"outbox", std::move(outbox)},
                                {"storage", json::object{{"map_size_bytes", stats->map_size_bytes},
                                                         {"used_bytes", stats->used_bytes}}}}};
    }
    if (route == "doctor") {
      if (method != http::verb::get) return MethodNotAllowed();
      auto report = store_.Check();
      if (!report.ok()) return Error(report.status());
      json::array problems;
      for (const auto& p : report->problems) problems.emplace_back(p);
      return {200, json::object{{"ok", report->ok()},
                                {"customers", report->customers},
                                {"index_entries", report->index_entries},
                                {"outbox_entries", report->outbox_entries},
                                {"problems", std::move(problems)}}};
    }
    if (route == "customers") {
      if (method == http::verb::get) {
        const auto q = QueryParam(query, "q");
        if (!q) return Error(ApiError{400, "invalid_argument", "q", "required: the search text"});
        std::size_t limit = customers::CustomerService::kDefaultSearchLimit;
        if (const auto l = QueryParam(query, "limit")) {
          const auto r = std::from_chars(l->data(), l->data() + l->size(), limit);
          if (r.ec != std::errc() || r.ptr != l->data() + l->size()) {
            return Error(ApiError{400, "invalid_argument", "limit", "must be a number from 1 to 100"});
          }
        }
        auto results = customers_.Search(*q, limit);
        if (!results.ok()) return Error(results.status());
        json::array out;
        for (const auto& r : *results) {
          out.push_back(json::object{{"customer", CustomerJson(r.customer)},
                                     {"matched", storage::ToString(r.matched)},
                                     {"score", r.score}});
        }
        return {200, json::object{{"results", std::move(out)}}};
      }
      if (method == http::verb::post) {
        json::value body;
        if (auto err = ParseBody(req, body)) return Error(*err);
        customers::CustomerPatch patch;
        if (auto err = ParsePatch(body, patch, nullptr)) return Error(*err);
        auto created = customers_.Create(patch, OperatorOf(req));
        if (!created.ok()) return Error(created.status());
        return {201, CustomerJson(*created)};
      }
      return MethodNotAllowed();
    }
    if (route.substr(0, 10) == "customers/") {
      const std::string ref = PercentDecode(route.substr(10));
      if (ref.empty() || ref.find('/') != std::string::npos) return NotFoundRoute();
      if (method == http::verb::get) {
        auto c = customers_.Find(ref);
        if (!c.ok()) return Error(c.status());
        return {200, CustomerJson(*c)};
      }
      if (method == http::verb::patch) {
        json::value body;
        if (auto err = ParseBody(req, body)) return Error(*err);
        customers::CustomerPatch patch;
        std::uint32_t version = 0;
        if (auto err = ParsePatch(body, patch, &version)) return Error(*err);
        auto c = customers_.Edit(ref, patch, version, OperatorOf(req));
        if (!c.ok()) return Error(c.status());
        return {200, CustomerJson(*c)};
      }
      return MethodNotAllowed();
    }
    return NotFoundRoute();
  }();

  if (reply.status >= 500) {
    KASSA_LOG(kError) << req.method_string() << ' ' << path << " -> " << reply.status;
  }
  return JsonResponse(reply.status, json::serialize(reply.body), req.version(), req.keep_alive());
}

}  // namespace kassa::api
