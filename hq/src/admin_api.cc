#include "admin_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <set>

#include "kassa/base/log.h"
#include "kassa/base/time_format.h"
#include "kassa/search/customer_search.h"
#include "measures_import.h"

namespace kassa::hq {
namespace json = boost::json;
namespace bhttp = boost::beast::http;

namespace {

std::string IsoTime(std::int64_t ms) { return ms <= 0 ? std::string() : FormatIsoTime(ms); }

json::value Err(const std::string& code, const std::string& field, const std::string& message) {
  return json::object{{"error", json::object{{"code", code}, {"field", field}, {"message", message}}}};
}

unsigned HttpOf(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 507;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

json::value ErrOf(const Status& s) {
  return Err(StatusCodeName(s.code()), std::string(s.field()), std::string(s.message()));
}

json::object CustomerJson(const model::Customer& c) {
  json::object dims;
  for (const auto& d : c.financial_dimensions) dims[d.name] = d.value;
  json::array cards;
  for (const auto& card : c.loyalty_cards) cards.emplace_back(card);
  return json::object{{"id", c.id.ToHex()},
                      {"account", c.account},
                      {"type", model::ToString(c.type)},
                      {"name", model::DisplayName(c)},
                      {"first_name", c.first_name},
                      {"last_name", c.last_name},
                      {"organization_name", c.organization_name},
                      {"email", c.email},
                      {"phone", c.phone},
                      {"customer_group", c.customer_group},
                      {"loyalty_cards", std::move(cards)},
                      {"financial_dimensions", std::move(dims)},
                      {"version", c.version},
                      {"created_at", IsoTime(c.created_at_ms)},
                      {"changed_at", IsoTime(c.changed_at_ms)}};
}

}  // namespace

void HandleAdmin(Registry& registry, LinkServer& link, Clock& clock, const http::Request& req,
                 http::Respond respond) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const auto method = req.method();
  const auto reply = [&](unsigned status, const json::value& body) {
    respond(http::JsonResponse(status, json::serialize(body), req.version(), req.keep_alive()));
  };
  const auto not_allowed = [&] { reply(405, Err("method_not_allowed", "", "method not allowed on this path")); };

  if (path == "/v1/health") {
    if (method != bhttp::verb::get) return not_allowed();
    return reply(200, json::object{{"status", "ok"}, {"service", "kassa-hq"}, {"api", "v1"}});
  }
  if (path == "/v1/status") {
    if (method != bhttp::verb::get) return not_allowed();
    auto status = registry.Report();
    if (!status.ok()) return reply(HttpOf(status.status().code()), ErrOf(status.status()));
    const auto connected_list = link.ConnectedTerminals();
    const std::set<std::string> connected(connected_list.begin(), connected_list.end());
    json::array terminals;
    for (const auto& t : status->terminals) {
      terminals.push_back(json::object{{"terminal_id", t.record.terminal_id},
                                       {"store_id", t.record.store_id},
                                       {"connected", connected.contains(t.record.terminal_id)},
                                       {"cursor", t.record.cursor},
                                       {"lag", t.lag},
                                       {"last_seen", IsoTime(t.record.last_seen_ms)},
                                       {"operations_applied", t.record.operations_applied},
                                       {"rejections", t.record.rejections}});
    }
    return reply(200, json::object{{"customers", status->chain.customers},
                                   {"head_cursor", status->chain.head_seq},
                                   {"operations_recorded", status->chain.operations},
                                   {"operations_applied", status->operations_applied},
                                   {"rejections", status->rejections},
                                   {"terminals_connected", connected.size()},
                                   {"terminals", std::move(terminals)},
                                   {"time", IsoTime(clock.NowMs())}});
  }
  if (path == "/v1/config") {
    if (method == bhttp::verb::get) return reply(200, ChainConfigToJson(registry.config()));
    if (method != bhttp::verb::put) return not_allowed();
    boost::system::error_code ec;
    const json::value body = json::parse(req.body(), ec);
    if (ec) return reply(400, Err("invalid_argument", "body", "not valid JSON: " + ec.message()));
    ChainConfig config;
    if (auto e = ParseChainConfig(body, config)) {
      const auto colon = e->find(':');
      return reply(400, Err("invalid_argument", colon == std::string::npos ? "" : e->substr(0, colon),
                            colon == std::string::npos ? *e : e->substr(colon + 2)));
    }
    if (Status s = registry.ReplaceConfig(config); !s.ok()) return reply(HttpOf(s.code()), ErrOf(s));
    link.ChangesAppended();
    return reply(200, ChainConfigToJson(registry.config()));
  }
  if (path == "/v1/customers") {
    if (method != bhttp::verb::get) return not_allowed();
    const auto q = http::QueryParam(query, "q");
    if (!q) return reply(400, Err("invalid_argument", "q", "required: the search text"));
    std::size_t limit = search::kDefaultSearchLimit;
    if (const auto l = http::QueryParam(query, "limit")) {
      const auto r = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (r.ec != std::errc() || r.ptr != l->data() + l->size()) {
        return reply(400, Err("invalid_argument", "limit", "must be a number from 1 to 100"));
      }
    }
    const std::string country = registry.config().legal_entities.empty() ||
                                        registry.config().legal_entities.front().stores.empty()
                                    ? std::string()
                                    : registry.config().legal_entities.front().stores.front().operating_unit_country;
    auto results = search::SearchCustomers(registry.store(), *q, limit, country);
    if (!results.ok()) return reply(HttpOf(results.status().code()), ErrOf(results.status()));
    json::array out;
    for (const auto& r : *results) {
      out.push_back(json::object{{"customer", CustomerJson(r.customer)}, {"matched", search::ToString(r.matched)}});
    }
    return reply(200, json::object{{"results", std::move(out)}});
  }
  if (path == "/v1/measures") {
    // Insight measures for the customer card, replacing each customer's; all or nothing.
    if (method != bhttp::verb::post) return not_allowed();
    const auto entity = http::QueryParam(query, "legal_entity");
    if (!entity) return reply(400, Err("invalid_argument", "legal_entity", "required: ?legal_entity=ID"));
    const auto type = req.find(bhttp::field::content_type);
    const bool csv = type != req.end() && type->value().starts_with("text/csv");
    MeasuresByAccount by_account;
    if (auto e = csv ? ParseMeasuresCsv(req.body(), by_account) : ParseMeasuresJson(req.body(), by_account)) {
      const auto colon = e->find(": ");
      return reply(400, Err("invalid_argument", e->substr(0, colon), colon == std::string::npos ? *e : e->substr(colon + 2)));
    }
    std::vector<model::CustomerMeasures> measures;
    for (auto& [account, values] : by_account) {
      auto id = search::FindByAccount(registry.store(), account);
      if (!id.ok()) return reply(HttpOf(id.status().code()), ErrOf(id.status()));
      if (!*id) return reply(404, Err("not_found", "account", "no customer with account number " + account));
      measures.push_back({**id, std::move(values)});
    }
    auto imported = registry.ImportMeasures(*entity, measures);
    if (!imported.ok()) return reply(HttpOf(imported.status().code()), ErrOf(imported.status()));
    link.ChangesAppended();
    return reply(200, json::object{{"customers", *imported}});
  }
  if (path.substr(0, 14) == "/v1/customers/" && path.ends_with("/timeline")) {
    // A customer's activities and notes as headquarters holds them.
    if (method != bhttp::verb::get) return not_allowed();
    const auto entity = http::QueryParam(query, "legal_entity");
    if (!entity) return reply(400, Err("invalid_argument", "legal_entity", "required: ?legal_entity=ID"));
    const std::string account = http::PercentDecode(path.substr(14, path.size() - 14 - 9));
    auto id = search::FindByAccount(registry.store(), account);
    if (!id.ok()) return reply(HttpOf(id.status().code()), ErrOf(id.status()));
    if (!*id) return reply(404, Err("not_found", "customer", "no customer with this account number"));
    auto entries = registry.store().Timeline(*entity, **id, 500);
    if (!entries.ok()) return reply(HttpOf(entries.status().code()), ErrOf(entries.status()));
    json::array out;
    for (const auto& e : *entries) {
      out.push_back(json::object{{"id", e.id.ToHex()}, {"kind", model::ToString(e.kind)}, {"activity_type", e.activity_type},
                                 {"at", IsoTime(e.at_ms)}, {"worker_id", e.worker_id}, {"text", e.text}});
    }
    return reply(200, json::object{{"timeline", std::move(out)}});
  }
  if (path.substr(0, 14) == "/v1/customers/") {
    if (method != bhttp::verb::get) return not_allowed();
    auto id = search::FindByAccount(registry.store(), http::PercentDecode(path.substr(14)));
    if (!id.ok()) return reply(HttpOf(id.status().code()), ErrOf(id.status()));
    if (!*id) return reply(404, Err("not_found", "customer", "no customer with this account number"));
    auto c = registry.store().FindCustomer(**id);
    if (!c.ok() || !*c) return reply(404, Err("not_found", "customer", "no customer with this account number"));
    return reply(200, CustomerJson(**c));
  }
  return reply(404, Err("not_found", "path", "no such resource"));
}

}  // namespace kassa::hq
