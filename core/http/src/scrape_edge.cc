#include "kassa/http/scrape_edge.h"

#include <boost/json/serialize.hpp>
#include <string>

#include "kassa/base/log.h"
#include "kassa/http/reply.h"
#include "kassa/tls/link_tls.h"

namespace kassa::http {
namespace bhttp = boost::beast::http;

namespace {

Response Refusal(const Request& request, unsigned status, const char* code, const char* field, const char* message) {
  Response r = JsonResponse(status, boost::json::serialize(ErrorJson(ApiError{status, code, field, message})),
                            request.version(), request.keep_alive());
  if (status == 401) r.set(bhttp::field::www_authenticate, "Bearer");
  if (status == 405) r.set(bhttp::field::allow, "GET");
  return r;
}

}  // namespace

Handler ScrapeEdge(Handler inner, TokenCheck accepts) {
  return [inner = std::move(inner), accepts = std::move(accepts)](const Request& request, Respond respond) {
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics" && path != "/v1/metrics") {
      return respond(Refusal(request, 404, "not_found", "path", "this listener serves only GET /metrics"));
    }
    if (request.method() != bhttp::verb::get) {
      return respond(Refusal(request, 405, "method_not_allowed", "method", "only GET"));
    }
    const auto header = request.find(bhttp::field::authorization);
    const std::string_view value = header == request.end() ? std::string_view()
                                                           : std::string_view(header->value().data(), header->value().size());
    if (!value.starts_with("Bearer ") || !accepts(value.substr(7))) {
      KASSA_LOG_THROTTLED("metrics listener: refused a scrape " << (value.empty() ? "without a token" : "with a token it does not know"));
      return respond(Refusal(request, 401, "unauthenticated", "authorization",
                             "a bearer token is required (Authorization: Bearer TOKEN)"));
    }
    Request forwarded = request;
    forwarded.target("/v1/metrics");
    inner(forwarded, std::move(respond));
  };
}

Result<std::unique_ptr<HttpServer>> StartScrapeListener(boost::asio::any_io_executor executor,
                                                        const ScrapeListener& listener, Handler inner,
                                                        TokenCheck accepts) {
  if (listener.address.empty()) return std::unique_ptr<HttpServer>();
  ServerOptions options;
  options.max_body_bytes = 1024;
  options.max_connections = 16;
  KASSA_TRY_ASSIGN(options.tls, tls::MakeHttpsServerContext(listener.certificate_file, listener.key_file));
  KASSA_TRY_ASSIGN(auto server, HttpServer::Start(std::move(executor), listener.address, listener.port, options,
                                                  ScrapeEdge(std::move(inner), std::move(accepts))));
  KASSA_LOG(kInfo) << "metrics for bearer tokens on https://" << listener.address << ":" << server->port() << "/metrics";
  return server;
}

}  // namespace kassa::http
