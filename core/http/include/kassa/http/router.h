#pragma once

// Routes as data, for both daemons' APIs: one table per daemon of
//   (method, pattern, access, handler)
// so what each route requires of its caller is read beside it, and the same
// table is listed in docs/API.md (a test compares them).
//
//   - Patterns are paths with {name} segments: "/v1/customers/{ref}/card".
//     The request's target is parsed with Boost.URL; path segments are
//     percent-decoded ('+' stays '+'), the query's names and values too ('+'
//     is a space there only). A pattern segment matches one whole segment.
//   - Answers: no pattern matches: 404 (or the fallback, for paths outside
//     the API prefix); a pattern matches but not the method: 405; a target
//     that is not a valid URL: 400.
//   - Access: before the handler runs, the daemon's Guard sees the route's
//     access word ("public", "session", a permission name, ...) and either
//     lets the call through, setting Call::identity to who is calling, or
//     answers for it (401, 403). Handlers receive an identity, never a raw
//     token.
//   - A handler answers at once (returns the Reply) or later (returns
//     nullopt and calls the sender from Call::Later() exactly once).
//
// Threading: everything on the server's one thread.

#include <any>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kassa/http/http_server.h"
#include "kassa/http/reply.h"
#include "kassa/http/route_metrics.h"

namespace kassa::http {

using Verb = boost::beast::http::verb;
// Sends a reply later; copyable; call once.
using Sender = std::function<void(Reply)>;

// What a route table says of a route, without its handler.
struct RouteInfo {
  Verb method;
  std::string_view pattern;
  std::string_view access;
};

// One request as a handler sees it.
class Call {
 public:
  Call(const Request& request, std::vector<std::string> params,
       std::vector<std::pair<std::string, std::string>> query, RouteInfo route, Sender sender)
      : request_(request),
        params_(std::move(params)),
        query_(std::move(query)),
        route_(route),
        sender_(std::move(sender)) {}

  const Request& request() const { return request_; }
  // The {name} segments of the pattern, in order, decoded.
  const std::string& param(std::size_t i) const { return params_.at(i); }
  // The decoded value of query parameter `name` (the first), if present.
  std::optional<std::string> query(std::string_view name) const;
  // Every decoded name=value pair of the query, in order.
  const std::vector<std::pair<std::string, std::string>>& query_pairs() const { return query_; }
  // The route's access word.
  std::string_view access() const { return route_.access; }
  // The route matched (method, pattern, access).
  const RouteInfo& route() const { return route_; }
  // Who is calling, as the Guard proved it (empty for public routes).
  std::any identity;
  // For handlers that answer later.
  Sender Later() const { return sender_; }

 private:
  const Request& request_;
  std::vector<std::string> params_;
  std::vector<std::pair<std::string, std::string>> query_;
  RouteInfo route_;
  Sender sender_;
};

using RouteHandler = std::function<std::optional<Reply>(Call&)>;

struct Route {
  RouteInfo info;
  RouteHandler handler;
};

// A daemon's table, written as static data over handler functions that
// take the daemon's context (T), so it can be listed without an instance.
template <typename T>
struct RouteOf {
  Verb method;
  std::string_view pattern;
  std::string_view access;
  std::optional<Reply> (*handler)(T& context, Call& call);
};

template <typename T, std::size_t N>
std::vector<RouteInfo> Describe(const RouteOf<T> (&table)[N]) {
  std::vector<RouteInfo> out;
  for (const auto& r : table) out.push_back({r.method, r.pattern, r.access});
  return out;
}

// REQUIRES: `target` outlives the routes.
template <typename T, std::size_t N>
std::vector<Route> Bind(const RouteOf<T> (&table)[N], T& target) {
  std::vector<Route> out;
  for (const auto& r : table) {
    auto handler = r.handler;
    out.push_back({{r.method, r.pattern, r.access}, [&target, handler](Call& c) { return handler(target, c); }});
  }
  return out;
}

// Decides whether a call may reach its route: sets `call.identity` and
// returns nullopt, or returns the refusal.
using Guard = std::function<std::optional<Reply>(Call& call)>;

class Router {
 public:
  // `service` names the daemon in logs; `api_prefix` ("/v1/") is where the
  // routes live; `fallback` answers paths outside it (null: 404); `metrics`
  // (when given, outliving every answer) observes each answer under the
  // API prefix by its route's pattern.
  Router(std::string service, std::string api_prefix, std::vector<Route> routes, Guard guard,
         Handler fallback = nullptr, RouteMetrics* metrics = nullptr);

  void Handle(const Request& request, Respond respond) const;

 private:
  std::string service_;
  std::string prefix_;
  std::vector<Route> routes_;
  std::vector<std::vector<std::string_view>> patterns_;  // each route's pattern, split once
  Guard guard_;
  Handler fallback_;
  RouteMetrics* metrics_;
};

// The decoded value of query parameter `name` of `request`'s target, if
// present (for handlers outside a route table: the event stream).
std::optional<std::string> QueryParam(const Request& request, std::string_view name);

// "GET", "POST", ... of `method`.
std::string_view VerbName(Verb method);

}  // namespace kassa::http
