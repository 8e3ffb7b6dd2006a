#include "sealed_routes.h"

#include "api_routes.h"
#include "kassa/http/customer_json.h"

namespace kassa::api {
namespace json = boost::json;
using http::Call;
using http::Reply;
using http::Verb;

namespace {

std::string Reason(const customers::Access& access) {
  if (access.state == customers::AccessState::kWiped) {
    return "this terminal was wiped by order of headquarters at " + http::IsoTime(access.since_ms) +
           "; its keys and customer data are destroyed. Enrol it anew (a new link certificate) to use it again";
  }
  return "customer data is locked: headquarters has not been reached since " + http::IsoTime(access.since_ms) +
         ", longer than this store allows. Nothing queued is lost; it unlocks when the link to headquarters returns";
}

Reply Refuse(const SealedContext& self) {
  return http::Error(http::ApiError{423, "locked", "terminal", Reason(self.access)});
}

}  // namespace

json::object AccessJson(const customers::Access& access) {
  json::object out{{"state", customers::ToString(access.state)}};
  if (!access.open()) {
    out["since"] = http::IsoTime(access.since_ms);
    out["reason"] = Reason(access);
  }
  return out;
}

std::unique_ptr<http::Router> MakeSealedRouter(SealedContext& context) {
  SealedContext* self = &context;
  std::vector<http::Route> routes;
  for (const http::RouteInfo& info : ApiRouteTable()) {
    http::RouteHandler handler = [self](Call&) -> std::optional<Reply> { return Refuse(*self); };
    if (info.method == Verb::get && info.pattern == "/v1/health") {
      handler = [self](Call&) -> std::optional<Reply> {
        return Reply{200, json::object{{"status", "ok"}, {"service", "kassad"}, {"api", "v1"},
                                       {"access", customers::ToString(self->access.state)}}};
      };
    } else if (info.method == Verb::get && info.pattern == "/v1/status") {
      handler = [self](Call&) -> std::optional<Reply> {
        json::object out{{"terminal_id", self->terminal_id}, {"access", AccessJson(self->access)}};
        if (self->details) {
          for (auto& [key, value] : self->details()) out[key] = std::move(value);
        }
        return Reply{200, std::move(out)};
      };
    }
    routes.push_back({info, std::move(handler)});
  }
  return std::make_unique<http::Router>(
      "kassad", "/v1/", std::move(routes), [](Call&) -> std::optional<Reply> { return std::nullopt; },
      [self](const http::Request& request, http::Respond respond) {
        const std::string_view target(request.target().data(), request.target().size());
        respond(self->ui.Serve(request, target.substr(0, target.find('?'))));
      });
}

}  // namespace kassa::api
