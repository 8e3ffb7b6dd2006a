#include "kassa/http/router.h"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>

#include "kassa/base/log.h"

namespace kassa::http {
namespace {

// The segments of `pattern` ("/v1/customers/{ref}") without the leading '/'.
std::vector<std::string_view> PatternSegments(std::string_view pattern) {
  std::vector<std::string_view> out;
  if (!pattern.empty() && pattern.front() == '/') pattern.remove_prefix(1);
  while (true) {
    const auto slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  return out;
}

// Whether `segments` match the pattern's `parts`; fills `params` with the
// {name} ones.
bool Matches(const std::vector<std::string_view>& parts, const std::vector<std::string>& segments,
             std::vector<std::string>& params) {
  if (parts.size() != segments.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].starts_with('{') && parts[i].ends_with('}')) {
      if (segments[i].empty()) return false;
      found.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

std::optional<std::string> Call::query(std::string_view name) const {
  for (const auto& [key, value] : query_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> QueryParam(const Request& request, std::string_view name) {
  const auto url = boost::urls::parse_origin_form(std::string_view(request.target().data(), request.target().size()));
  if (!url) return std::nullopt;
  for (auto p : url->params(boost::urls::encoding_opts(/*space_as_plus=*/true))) {
    if (p.key == name) return p.has_value ? p.value : std::string();
  }
  return std::nullopt;
}

std::string_view VerbName(Verb method) { return boost::beast::http::to_string(method); }

Router::Router(std::string service, std::string api_prefix, std::vector<Route> routes, Guard guard, Handler fallback,
               RouteMetrics* metrics)
    : service_(std::move(service)),
      prefix_(std::move(api_prefix)),
      routes_(std::move(routes)),
      guard_(std::move(guard)),
      fallback_(std::move(fallback)),
      metrics_(metrics) {
  for (const Route& r : routes_) patterns_.push_back(PatternSegments(r.info.pattern));
}

void Router::Handle(const Request& request, Respond respond) const {
  const std::string_view target(request.target().data(), request.target().size());
  const auto url = boost::urls::parse_origin_form(target);
  const std::string_view path = url ? std::string_view(url->encoded_path()) : target.substr(0, target.find('?'));
  if (!path.starts_with(prefix_) && fallback_) return fallback_(request, std::move(respond));

  // The route's pattern once one matches: what the metrics count by.
  const auto matched = std::make_shared<std::string_view>("other");
  const auto sender = std::make_shared<Sender>(
      [respond = std::move(respond), version = request.version(), keep_alive = request.keep_alive(),
       what = std::string(request.method_string()) + " " + std::string(path), service = service_,
       metrics = metrics_, matched, method = std::string(request.method_string()),
       started = std::chrono::steady_clock::now()](Reply reply) {
        if (reply.status >= 500) KASSA_LOG(kError) << service << ": " << what << " -> " << reply.status;
        if (metrics != nullptr) metrics->Observe(method, *matched, reply.status, std::chrono::steady_clock::now() - started);
        if (!reply.content_type.empty()) {
          return respond(TypedResponse(reply.status, reply.content_type, reply.text, version, keep_alive));
        }
        respond(JsonResponse(reply.status, boost::json::serialize(reply.body), version, keep_alive));
      });
  const Sender send = [sender](Reply reply) { (*sender)(std::move(reply)); };
  if (!url) return send(Invalid("path", "not a valid request target"));

  std::vector<std::string> segments;
  for (auto s : url->segments()) segments.emplace_back(s);
  const Route* route = nullptr;
  bool path_known = false;
  std::vector<std::string> params;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    std::vector<std::string> p;
    if (!Matches(patterns_[i], segments, p)) continue;
    path_known = true;
    if (r.info.method == request.method()) {
      route = &r;
      params = std::move(p);
      break;
    }
  }
  if (route == nullptr) return send(path_known ? MethodNotAllowed() : NotFoundRoute());
  *matched = route->info.pattern;  // a string_view of the static route table

  std::vector<std::pair<std::string, std::string>> query;
  for (auto p : url->params(boost::urls::encoding_opts(/*space_as_plus=*/true))) {
    query.emplace_back(p.key, p.has_value ? p.value : std::string());
  }
  Call call(request, std::move(params), std::move(query), route->info, send);
  if (guard_) {
    if (auto refused = guard_(call)) return send(std::move(*refused));
  }
  if (auto reply = route->handler(call)) send(std::move(*reply));
}

}  // namespace kassa::http
