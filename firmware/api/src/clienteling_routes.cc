#include "clienteling_routes.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include "kassa/config/clienteling_json.h"

namespace kassa::api {
namespace json = boost::json;
namespace bhttp = boost::beast::http;
namespace m = kassa::model;
using clienteling::Caller;

namespace {

Reply Invalid(std::string field, std::string message) {
  return Error(ApiError{400, "invalid_argument", std::move(field), std::move(message)});
}

// Every name=value pair of a query string, decoded, in order.
std::vector<std::pair<std::string, std::string>> QueryPairs(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const auto eq = part.find('=');
    out.emplace_back(http::PercentDecode(part.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : http::PercentDecode(part.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::size_t> ParseSize(std::string_view s) {
  std::size_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

json::object OperatorJson(const m::Operator& op, const m::ClientelingConfig& config) {
  json::array perms;
  if (const m::Role* role = config.FindRole(op.role)) {
    for (std::size_t i = 0; i < m::kPermissionCount; ++i) {
      const auto p = static_cast<m::Permission>(i);
      if (role->Allows(p)) perms.emplace_back(m::ToString(p));
    }
  }
  return json::object{{"worker_id", op.worker_id}, {"name", op.name}, {"role", op.role}, {"permissions", std::move(perms)}};
}

json::array FactsJson(const std::vector<m::CardFact>& facts) {
  json::array out;
  for (const auto& f : facts) {
    out.push_back(json::object{{"name", f.name}, {"label", f.label}, {"value", f.value},
                               {"source", f.measure ? "measure" : "attribute"}});
  }
  return out;
}

json::object TimelineJson(const m::TimelineEntry& e) {
  json::object o{{"id", e.id.ToHex()}, {"kind", m::ToString(e.kind)}, {"at", IsoTime(e.at_ms)},
                 {"worker_id", e.worker_id}, {"text", e.text}};
  if (e.kind == m::TimelineKind::kActivity) o["activity_type"] = e.activity_type;
  return o;
}

std::optional<std::string> StringMember(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// ISO date-time "YYYY-MM-DDTHH:MM[:SS]Z" -> Unix ms.
std::optional<std::int64_t> ParseIsoTime(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  char z = 0;
  const std::string text(s);
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z);
  if (n != 7 || z != 'Z') return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return (static_cast<std::int64_t>(days) * 86400 + h * 3600 + mi * 60 + sec) * 1000;
}

}  // namespace

std::variant<Caller, Reply> ClientelingRoutes::Authenticate(const http::Request& req) {
  const auto it = req.find(bhttp::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (it == req.end() || it->value().substr(0, kBearer.size()) != kBearer) {
    return Error(ApiError{401, "unauthenticated", "session", "sign in first (POST /v1/session)"});
  }
  const std::string_view token(it->value().data() + kBearer.size(), it->value().size() - kBearer.size());
  auto caller = sessions_.Authenticate(token);
  if (!caller.ok()) return Error(caller.status());
  return std::move(*caller);
}

std::optional<Reply> CheckAttributes(const Caller& caller, std::vector<m::AttributeValue>& attributes) {
  m::Customer holder;  // NormalizeAttributes works on a customer's attributes
  holder.attributes = std::move(attributes);
  std::string bad;
  const Status s = m::NormalizeAttributes(caller.config, holder, bad);
  attributes = std::move(holder.attributes);
  if (s.ok()) return std::nullopt;
  return Error(s, bad.empty() ? std::string() : "attributes." + bad);
}

std::optional<Reply> ClientelingRoutes::Session(const http::Request& req) {
  const bhttp::verb method = req.method();
  if (method == bhttp::verb::post) {
    json::value body;
    if (auto err = ParseBody(req, body)) return Error(*err);
    const json::object& o = body.get_object();
    for (const auto& [key, value] : o) {
      if (key != "worker_id" && key != "pin" && key != "badge") return Invalid(std::string(key), "unknown member");
      if (!value.is_string()) return Invalid(std::string(key), "must be a string");
    }
    Result<Caller> caller = Status(StatusCode::kInvalidArgument, "pin: give worker_id and pin, or badge");
    if (const auto badge = StringMember(o, "badge")) {
      caller = sessions_.SignInWithBadge(*badge);
    } else if (const auto worker = StringMember(o, "worker_id"); worker && StringMember(o, "pin")) {
      caller = sessions_.SignInWithPin(*worker, *StringMember(o, "pin"));
    }
    if (!caller.ok()) return Error(caller.status());
    return Reply{201, json::object{{"token", caller->token},
                                   {"operator", OperatorJson(caller->op, caller->config)},
                                   {"idle_timeout_s", caller->config.idle_timeout_s}}};
  }
  auto auth = Authenticate(req);
  if (auto* reply = std::get_if<Reply>(&auth)) return std::move(*reply);
  const Caller& caller = std::get<Caller>(auth);
  if (method == bhttp::verb::get) {
    return Reply{200, json::object{{"operator", OperatorJson(caller.op, caller.config)},
                                   {"idle_timeout_s", caller.config.idle_timeout_s}}};
  }
  if (method == bhttp::verb::delete_) {
    sessions_.SignOut(caller.token);
    return Reply{200, json::object{{"signed_out", caller.op.worker_id}}};
  }
  return MethodNotAllowed();
}

std::optional<Reply> ClientelingRoutes::Handle(const http::Request& req, std::string_view route, std::string_view query) {
  const bhttp::verb method = req.method();
  if (route == "session") return Session(req);

  const bool card = route.starts_with("customers/") && route.ends_with("/card");
  const bool timeline = route.starts_with("customers/") && route.ends_with("/timeline");
  const bool activities = route.starts_with("customers/") && route.ends_with("/activities");
  const bool notes = route.starts_with("customers/") && route.ends_with("/notes");
  const bool mine = route == "clienteling" || route == "operators" || route == "clientbook" ||
                    route.starts_with("clientbook/") || card || timeline || activities || notes;
  if (!mine) return std::nullopt;

  auto auth = Authenticate(req);
  if (auto* reply = std::get_if<Reply>(&auth)) return std::move(*reply);
  const Caller& caller = std::get<Caller>(auth);

  if (route == "clienteling") {
    if (method != bhttp::verb::get) return MethodNotAllowed();
    return Reply{200, config::ClientelingToJson(caller.config)};
  }
  if (route == "operators") {
    if (method != bhttp::verb::get) return MethodNotAllowed();
    auto ops = sessions_.StoreOperators();
    if (!ops.ok()) return Error(ops.status());
    json::array out;
    for (const auto& op : *ops) out.push_back(OperatorJson(op, caller.config));
    return Reply{200, json::object{{"operators", std::move(out)}}};
  }
  if (route == "clientbook") {
    if (method != bhttp::verb::get) return MethodNotAllowed();
    clienteling::BookQuery q;
    std::map<std::string, m::BookFilter::Condition> conditions;
    for (const auto& [key, value] : QueryPairs(query)) {
      if (key == "owner") {
        q.owner = value;
      } else if (key == "store") {
        if (value != "true" && value != "false") return Invalid("store", "must be true or false");
        q.store = value == "true";
      } else if (key == "q") {
        q.filter.text = value;
      } else if (key == "sort") {
        if (value != "name" && value != "recent") return Invalid("sort", "must be name or recent");
        q.sort = value == "name" ? clienteling::BookQuery::Sort::kName : clienteling::BookQuery::Sort::kRecentlyAdded;
      } else if (key == "offset" || key == "limit") {
        const auto n = ParseSize(value);
        if (!n) return Invalid(key, "must be a whole number");
        (key == "offset" ? q.offset : q.limit) = *n;
      } else if (key.starts_with("f.")) {
        // f.NAME=V (equals; V1,V2,... one of), f.NAME.min / .max (range), f.NAME.within_days=N
        std::string name = key.substr(2);
        std::string part;
        for (const char* suffix : {".min", ".max", ".within_days"}) {
          if (name.ends_with(suffix)) {
            part = suffix + 1;
            name.resize(name.size() - std::strlen(suffix));
          }
        }
        auto& c = conditions[name];
        c.attribute = name;
        using Op = m::BookFilter::Condition::Op;
        if (part.empty()) {
          c.values.clear();
          std::string_view rest = value;
          while (true) {
            const auto comma = rest.find(',');
            c.values.emplace_back(rest.substr(0, comma));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
          }
          c.op = c.values.size() == 1 ? Op::kEquals : Op::kOneOf;
        } else if (part == "within_days") {
          const auto n = ParseSize(value);
          if (!n) return Invalid(key, "must be a whole number of days");
          c.op = Op::kWithinDays;
          c.days = static_cast<std::uint32_t>(std::min<std::size_t>(*n, 100000));
        } else {
          c.op = Op::kRange;
          (part == "min" ? c.min : c.max) = value;
        }
      } else {
        return Invalid(key, "unknown parameter");
      }
    }
    for (auto& [name, c] : conditions) q.filter.conditions.push_back(std::move(c));
    std::string bad;
    auto page = service_.Book(caller, std::move(q), bad);
    if (!page.ok()) return Error(page.status(), bad.empty() ? std::string() : "f." + bad);
    json::array items;
    for (const auto& item : page->items) {
      json::array owners;
      for (const auto& o : item.owners) owners.emplace_back(o);
      items.push_back(json::object{{"customer", CustomerJson(item.customer)},
                                   {"card", FactsJson(item.card)},
                                   {"owners", std::move(owners)}});
    }
    json::object out{{"total", page->total}, {"items", std::move(items)}, {"query_ms", static_cast<double>(page->query_us) / 1000.0}};
    if (!page->owner.empty()) {
      out["owner"] = page->owner;
      out["book_number"] = page->book_number.empty() ? json::value(m::kPendingSyncText) : json::value(page->book_number);
    }
    return Reply{200, std::move(out)};
  }
  if (route == "clientbook/entries" || route.starts_with("clientbook/entries/")) {
    if (route == "clientbook/entries") {
      if (method != bhttp::verb::post) return MethodNotAllowed();
      json::value body;
      if (auto err = ParseBody(req, body)) return Error(*err);
      const json::object& o = body.get_object();
      for (const auto& [key, value] : o) {
        if (key != "customer" && key != "owner") return Invalid(std::string(key), "unknown member");
        if (!value.is_string()) return Invalid(std::string(key), "must be a string");
      }
      const auto customer = StringMember(o, "customer");
      if (!customer) return Invalid("customer", "required: an account number or id");
      const Status s = service_.AddToBook(caller, StringMember(o, "owner").value_or(""), *customer);
      if (!s.ok()) return Error(s);
      return Reply{201, json::object{{"added", *customer}}};
    }
    if (method != bhttp::verb::delete_) return MethodNotAllowed();
    const std::string ref = http::PercentDecode(route.substr(std::string_view("clientbook/entries/").size()));
    const Status s = service_.RemoveFromBook(caller, http::QueryParam(query, "owner").value_or(""), ref);
    if (!s.ok()) return Error(s);
    return Reply{200, json::object{{"removed", ref}}};
  }
  if (route == "clientbook/reassign") {
    if (method != bhttp::verb::post) return MethodNotAllowed();
    json::value body;
    if (auto err = ParseBody(req, body)) return Error(*err);
    const json::object& o = body.get_object();
    std::vector<std::string> refs;
    for (const auto& [key, value] : o) {
      if (key == "from" || key == "to") {
        if (!value.is_string()) return Invalid(std::string(key), "must be a worker id");
      } else if (key == "customers") {
        if (!value.is_array()) return Invalid("customers", "must be an array of account numbers or ids");
        for (const auto& v : value.get_array()) {
          if (!v.is_string()) return Invalid("customers", "must be an array of account numbers or ids");
          refs.emplace_back(v.get_string());
        }
      } else {
        return Invalid(std::string(key), "unknown member");
      }
    }
    const auto from = StringMember(o, "from");
    const auto to = StringMember(o, "to");
    if (!from || !to) return Invalid(from ? "to" : "from", "required: a worker id");
    auto moved = service_.Reassign(caller, *from, *to, refs);
    if (!moved.ok()) return Error(moved.status());
    return Reply{200, json::object{{"reassigned", *moved}, {"from", *from}, {"to", *to}}};
  }
  // customers/{ref}/...
  const auto slash = route.find('/', 10);
  const std::string ref = http::PercentDecode(route.substr(10, slash - 10));
  if (card) {
    if (method != bhttp::verb::get) return MethodNotAllowed();
    auto c = service_.CardOf(caller, ref);
    if (!c.ok()) return Error(c.status());
    json::array books;
    for (const auto& b : c->books) books.emplace_back(b);
    return Reply{200, json::object{{"customer", CustomerJson(c->customer)},
                                   {"facts", FactsJson(c->facts)},
                                   {"books", std::move(books)}}};
  }
  if (timeline) {
    if (method != bhttp::verb::get) return MethodNotAllowed();
    std::size_t limit = 50;
    if (const auto l = http::QueryParam(query, "limit")) {
      const auto n = ParseSize(*l);
      if (!n || *n == 0 || *n > 500) return Invalid("limit", "must be a number from 1 to 500");
      limit = *n;
    }
    auto entries = service_.Timeline(caller, ref, limit);
    if (!entries.ok()) return Error(entries.status());
    json::array out;
    for (const auto& e : *entries) out.push_back(TimelineJson(e));
    return Reply{200, json::object{{"timeline", std::move(out)}}};
  }
  if (method != bhttp::verb::post) return MethodNotAllowed();
  json::value body;
  if (auto err = ParseBody(req, body)) return Error(*err);
  const json::object& o = body.get_object();
  for (const auto& [key, value] : o) {
    const bool known = key == "text" || (activities && (key == "type" || key == "at"));
    if (!known) return Invalid(std::string(key), "unknown member");
    if (!value.is_string()) return Invalid(std::string(key), "must be a string");
  }
  const std::string text = StringMember(o, "text").value_or("");
  Result<m::TimelineEntry> entry = Status(StatusCode::kInternal, "timeline: unreachable");
  if (activities) {
    const auto type = StringMember(o, "type");
    if (!type) return Invalid("type", "required: an activity type id (GET /v1/clienteling)");
    std::int64_t at_ms = 0;
    if (const auto at = StringMember(o, "at")) {
      const auto parsed = ParseIsoTime(*at);
      if (!parsed) return Invalid("at", "not a time like 2026-11-22T10:30:00Z");
      at_ms = *parsed;
    }
    entry = service_.AddActivity(caller, ref, *type, at_ms, text);
  } else {
    entry = service_.AddNote(caller, ref, text);
  }
  if (!entry.ok()) return Error(entry.status());
  return Reply{201, TimelineJson(*entry)};
}

}  // namespace kassa::api
