// The shared HTTP edge (core/http): the router's matching and decoding, the
// one Status->HTTP table, and the two daemons' route tables against the
// lists in docs/API.md.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "kassa/api/api_server.h"
#include "kassa/hq/hq_service.h"
#include "kassa/http/reply.h"
#include "kassa/http/router.h"

namespace kassa {
namespace {

using http::Call;
using http::Reply;
using http::Verb;
namespace bhttp = boost::beast::http;

struct Answer {
  unsigned status = 0;
  boost::json::value body;
};

Answer Send(const http::Router& router, Verb method, const std::string& target) {
  http::Request req{method, target, 11};
  Answer answer;
  router.Handle(req, [&](http::Response r) {
    answer.status = r.result_int();
    answer.body = boost::json::parse(r.body());
  });
  return answer;
}

// A table of two routes whose handlers echo what they were given.
http::Router EchoRouter(std::vector<std::string>* guarded) {
  const auto echo = [](Call& call) -> std::optional<Reply> {
    boost::json::array params;
    for (std::size_t i = 0;; ++i) {
      try {
        params.emplace_back(call.param(i));
      } catch (const std::out_of_range&) {
        break;
      }
    }
    return Reply{200, boost::json::object{{"params", params}, {"q", call.query("q").value_or("(none)")}}};
  };
  std::vector<http::Route> routes = {
      {{Verb::get, "/v1/things", "public"}, echo},
      {{Verb::get, "/v1/things/{ref}/parts", "secret"}, echo},
  };
  return http::Router("test", "/v1/", std::move(routes), [guarded](Call& call) -> std::optional<Reply> {
    guarded->emplace_back(call.access());
    if (call.access() == "secret") return http::Error(Status(StatusCode::kUnauthenticated, "session: sign in first"));
    return std::nullopt;
  });
}

TEST(RouterTest, MatchesPatternsAndDecodesSegmentsAndQueries) {
  std::vector<std::string> guarded;
  const auto router = EchoRouter(&guarded);
  const Answer a = Send(router, Verb::get, "/v1/things?q=two+words%21");
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.body.at("q"), "two words!");  // '+' is a space in a query
  EXPECT_EQ(guarded, std::vector<std::string>{"public"});
}

TEST(RouterTest, TheGuardSeesTheRoutesAccessAndItsRefusalIsTheAnswer) {
  std::vector<std::string> guarded;
  const auto router = EchoRouter(&guarded);
  const Answer a = Send(router, Verb::get, "/v1/things/LV%2B1/parts");
  EXPECT_EQ(a.status, 401u);
  EXPECT_EQ(a.body.at("error").at("field"), "session");
  EXPECT_EQ(guarded, std::vector<std::string>{"secret"});
}

TEST(RouterTest, UnknownPathsAndMethodsAndBadTargetsAreClearErrors) {
  std::vector<std::string> guarded;
  const auto router = EchoRouter(&guarded);
  EXPECT_EQ(Send(router, Verb::get, "/v1/nothing").status, 404u);
  EXPECT_EQ(Send(router, Verb::get, "/v1/things/").status, 404u);  // an empty {ref} matches nothing
  EXPECT_EQ(Send(router, Verb::post, "/v1/things").status, 405u);
  const Answer bad = Send(router, Verb::get, "/v1/things?q=%zz");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.body.at("error").at("field"), "path");
  EXPECT_TRUE(guarded.empty());  // nothing reached the guard
}

TEST(RouterTest, PathSegmentsKeepPlusAndDecodeEscapes) {
  std::vector<http::Route> routes = {{{Verb::get, "/v1/c/{ref}", "public"}, [](Call& call) -> std::optional<Reply> {
                                        return Reply{200, boost::json::object{{"ref", call.param(0)}}};
                                      }}};
  const http::Router router("test", "/v1/", std::move(routes), nullptr);
  EXPECT_EQ(Send(router, Verb::get, "/v1/c/a+b").body.at("ref"), "a+b");
  EXPECT_EQ(Send(router, Verb::get, "/v1/c/a%20b%2Fc").body.at("ref"), "a b/c");
}

TEST(ErrorTest, OneTableFromStatusToHttp) {
  const std::pair<StatusCode, unsigned> expected[] = {
      {StatusCode::kInvalidArgument, 400}, {StatusCode::kOutOfRange, 400},      {StatusCode::kUnauthenticated, 401},
      {StatusCode::kPermissionDenied, 403}, {StatusCode::kNotFound, 404},       {StatusCode::kAborted, 409},
      {StatusCode::kAlreadyExists, 409},   {StatusCode::kFailedPrecondition, 409}, {StatusCode::kResourceExhausted, 507},
      {StatusCode::kUnimplemented, 501},   {StatusCode::kUnavailable, 503},     {StatusCode::kDeadlineExceeded, 504},
      {StatusCode::kInternal, 500},        {StatusCode::kDataLoss, 500},
  };
  for (const auto& [code, status] : expected) {
    const Reply r = http::Error(Status(code, "email: not an email address"));
    EXPECT_EQ(r.status, status) << StatusCodeName(code);
    EXPECT_EQ(r.body.at("error").at("code"), StatusCodeName(code));
    EXPECT_EQ(r.body.at("error").at("field"), "email");
    EXPECT_EQ(r.body.at("error").at("message"), "not an email address");
  }
}

// The rows of docs/API.md between "<!-- route table: NAME -->" and
// "<!-- end of route table -->".
std::string DocumentedTable(const std::string& name) {
  std::ifstream in(KASSA_API_DOC);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  const std::string start = "<!-- route table: " + name + " -->\n";
  const auto a = text.find(start);
  const auto b = text.find("<!-- end of route table -->", a);
  if (a == std::string::npos || b == std::string::npos) return "(no route table for " + name + " in docs/API.md)";
  return text.substr(a + start.size(), b - a - start.size());
}

std::string Markdown(const std::vector<http::RouteInfo>& table) {
  std::string out = "| method | path | caller needs |\n| --- | --- | --- |\n";
  for (const auto& r : table) {
    out += "| `" + std::string(http::VerbName(r.method)) + "` | `" + std::string(r.pattern) + "` | " +
           std::string(r.access) + " |\n";
  }
  return out;
}

TEST(RouteTableTest, DocsListEveryRouteOfKassadWithItsAccess) {
  EXPECT_EQ(DocumentedTable("kassad"), Markdown(api::ApiServer::RouteTable()))
      << "docs/API.md's kassad route table differs; the table of the code is:\n"
      << Markdown(api::ApiServer::RouteTable());
}

TEST(RouteTableTest, DocsListEveryRouteOfKassaHqWithItsAccess) {
  EXPECT_EQ(DocumentedTable("kassa-hq"), Markdown(hq::HqService::AdminRouteTable()))
      << "docs/API.md's kassa-hq route table differs; the table of the code is:\n"
      << Markdown(hq::HqService::AdminRouteTable());
}

}  // namespace
}  // namespace kassa
