#include "clienteling_routes.h"

#include <algorithm>
#include <any>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <variant>

#include "kassa/config/clienteling_json.h"
#include "kassa/http/customer_json.h"

namespace kassa::api {
namespace json = boost::json;
namespace bhttp = boost::beast::http;
namespace m = kassa::model;
using clienteling::Caller;
using http::Error;
using http::Invalid;
using http::IsoTime;
using http::CustomerJson;
using http::TimelineJson;

namespace {

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

// The body of `call` as a JSON object whose members are all strings among
// `allowed`; the reply naming the first one that is not.
std::variant<json::object, Reply> StringMembers(const Call& call, std::initializer_list<std::string_view> allowed) {
  auto body = http::ParseJsonObject(call.request());
  if (!body.ok()) return Error(body.status());
  for (const auto& [key, value] : *body) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      return Invalid(std::string(key), "unknown member");
    }
    if (!value.is_string()) return Invalid(std::string(key), "must be a string");
  }
  return std::move(*body);
}

}  // namespace

const Caller& CallerOf(const Call& call) { return *std::any_cast<Caller>(&call.identity); }

std::string_view ActorOf(const Call& call) {
  const Caller& caller = CallerOf(call);
  return caller.kiosk ? m::kKioskActor : std::string_view(caller.op.worker_id);
}

bool KioskMay(const http::RouteInfo& route) {
  using V = bhttp::verb;
  static constexpr std::pair<V, std::string_view> kKioskRoutes[] = {
      {V::post, "/v1/customers"},           {V::get, "/v1/customers/{ref}"},
      {V::post, "/v1/customers/{ref}/receipt"}, {V::get, "/v1/session"},
      {V::delete_, "/v1/session"},           {V::get, "/v1/consent-texts"},
  };
  for (const auto& [method, pattern] : kKioskRoutes) {
    if (route.method == method && route.pattern == pattern) return true;
  }
  return false;
}

std::optional<Reply> ClientelingGuard(ApiContext& self, Call& call) {
  if (call.access() == "public") return std::nullopt;
  const auto it = call.request().find(bhttp::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (it == call.request().end() || it->value().substr(0, kBearer.size()) != kBearer) {
    return Error(http::ApiError{401, "unauthenticated", "session", "sign in first (POST /v1/session)"});
  }
  const std::string_view token(it->value().data() + kBearer.size(), it->value().size() - kBearer.size());
  auto caller = self.sessions.Authenticate(token);
  if (!caller.ok()) return Error(caller.status());
  if (caller->kiosk && !KioskMay(call.route())) {
    return Error(http::ApiError{403, "permission_denied", "permission",
                                "a kiosk session may only sign a customer up and show that customer back"});
  }
  if (call.access() != "session") {
    const auto permission = m::ParsePermission(call.access());
    KASSA_CHECK(permission.has_value());  // the route tables name permissions only
    if (!clienteling::OperatorSessions::Require(*caller, *permission).ok()) {
      return Error(http::ApiError{403, "permission_denied", "permission",
                                  std::string("the operator's role does not allow ") + m::ToString(*permission)});
    }
  }
  call.identity = std::move(*caller);
  return std::nullopt;
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

namespace {
Reply SessionReply(const Caller& caller) {
  return Reply{201, json::object{{"token", caller.token},
                                 {"operator", OperatorJson(caller.op, caller.config)},
                                 {"idle_timeout_s", caller.config.idle_timeout_s}}};
}
}  // namespace

std::optional<Reply> SignIn(ApiContext& self, Call& call) {
  auto members = StringMembers(call, {"worker_id", "pin", "ticket", "badge"});
  if (auto* refused = std::get_if<Reply>(&members)) return std::move(*refused);
  const json::object& o = std::get<json::object>(members);
  if (o.contains("badge")) {
    // Badges are secrets of the card reader: they sign in only there (POST /v1/session/swipe).
    return Error(Status(StatusCode::kInvalidArgument, "badge: badges sign in only at the terminal's card reader"));
  }
  if (const auto ticket = StringMember(o, "ticket")) {
    auto caller = self.sessions.RedeemSwipeTicket(*ticket);
    if (!caller.ok()) return Error(caller.status());
    return SessionReply(*caller);
  }
  const auto worker = StringMember(o, "worker_id");
  const auto pin = StringMember(o, "pin");
  if (!worker || !pin) {
    return Error(Status(StatusCode::kInvalidArgument, "pin: give worker_id and pin, or a swipe ticket"));
  }
  auto attempt = self.sessions.BeginPinSignIn(*worker, *pin);
  if (!attempt.ok()) return Error(attempt.status());
  // The slow hash on the verifier's thread; the answer when it is done.
  auto shared = std::make_shared<clienteling::OperatorSessions::PinAttempt>(std::move(*attempt));
  self.pins.Verify(shared->pin, shared->hash, self.executor,
                   [&sessions = self.sessions, shared, send = call.Later()](bool right) {
                     auto caller = sessions.FinishPinSignIn(*shared, right);
                     send(caller.ok() ? SessionReply(*caller) : Error(caller.status()));
                   });
  return std::nullopt;
}

std::optional<Reply> OpenSwipe(ApiContext& self, Call&) {
  auto ticket = self.sessions.OpenSwipeTicket();
  if (!ticket.ok()) return Error(ticket.status());
  return Reply{201, json::object{{"ticket", *ticket},
                                 {"expires_in_s", clienteling::OperatorSessions::kSwipeTicketMs / 1000}}};
}

std::optional<Reply> SessionInfo(ApiContext&, Call& call) {
  const Caller& caller = CallerOf(call);
  return Reply{200, json::object{{"kind", caller.kiosk ? "kiosk" : "operator"},
                                 {"operator", OperatorJson(caller.op, caller.config)},
                                 {"idle_timeout_s", caller.config.idle_timeout_s}}};
}

std::optional<Reply> StartKiosk(ApiContext& self, Call& call) {
  auto kiosk = self.sessions.StartKiosk(CallerOf(call));
  if (!kiosk.ok()) return Error(kiosk.status());
  return Reply{201, json::object{{"token", kiosk->token}, {"kind", "kiosk"},
                                 {"operator", OperatorJson(kiosk->op, kiosk->config)}}};
}

std::optional<Reply> SignOut(ApiContext& self, Call& call) {
  const Caller& caller = CallerOf(call);
  self.sessions.SignOut(caller.token);
  return Reply{200, json::object{{"signed_out", caller.op.worker_id}}};
}

std::optional<Reply> Configuration(ApiContext&, Call& call) {
  return Reply{200, config::ClientelingToJson(CallerOf(call).config)};
}

// The legal entity's consent texts, as headquarters published them; the
// screens show these and record the one shown ("VERSION/LANGUAGE").
std::optional<Reply> ConsentTexts(ApiContext&, Call& call) {
  json::array texts;
  for (const auto& t : CallerOf(call).config.consent_texts) {
    texts.push_back(json::object{{"id", t.id}, {"version", t.version}, {"language", t.language}, {"text", t.text},
                                 {"reference", t.Reference()}});
  }
  return Reply{200, json::object{{"consent_texts", std::move(texts)}}};
}

std::optional<Reply> Operators(ApiContext& self, Call& call) {
  auto ops = self.sessions.StoreOperators();
  if (!ops.ok()) return Error(ops.status());
  auto departed = self.sessions.DepartedOperators();
  if (!departed.ok()) return Error(departed.status());
  json::array out;
  for (const auto& op : *ops) out.push_back(OperatorJson(op, CallerOf(call).config));
  // Associates who left, whose books the store keeps (to reassign from).
  json::array left;
  for (const auto& op : *departed) {
    left.push_back(json::object{{"worker_id", op.worker_id}, {"name", op.name},
                                {"reason", op.active ? "moved" : "deactivated"}});
  }
  return Reply{200, json::object{{"operators", std::move(out)}, {"departed", std::move(left)}}};
}

std::optional<Reply> Book(ApiContext& self, Call& call) {
  clienteling::BookQuery q;
  std::map<std::string, m::BookFilter::Condition> conditions;
  for (const auto& [key, value] : call.query_pairs()) {
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
  auto page = self.clienteling.Book(CallerOf(call), std::move(q), bad);
  if (!page.ok()) return Error(page.status(), bad.empty() ? std::string() : "f." + bad);
  std::vector<m::LocalId> listed;
  for (const auto& item : page->items) listed.push_back(item.customer.id);
  self.access.Record(m::AccessAction::kListed, ActorOf(call), listed);
  json::array items;
  for (const auto& item : page->items) {
    json::array owners;
    for (const auto& o : item.owners) owners.emplace_back(o);
    items.push_back(json::object{{"customer", CustomerJson(item.customer)},
                                 {"card", FactsJson(item.card)},
                                 {"owners", std::move(owners)}});
  }
  json::object out{{"total", page->total}, {"items", std::move(items)}, {"query_ms", static_cast<double>(page->query_us) / 1000.0}};
  json::array departed;
  for (const auto& d : page->departed) departed.emplace_back(d);
  out["departed"] = std::move(departed);
  if (!page->owner.empty()) {
    out["owner"] = page->owner;
    out["book_number"] = page->book_number.empty() ? json::value(m::kPendingSyncText) : json::value(page->book_number);
    out["book_pending"] = page->book_number.empty();  // as a customer's "pending": the screens say it in their language
  }
  return Reply{200, std::move(out)};
}

std::optional<Reply> AddToBook(ApiContext& self, Call& call) {
  auto members = StringMembers(call, {"customer", "owner"});
  if (auto* refused = std::get_if<Reply>(&members)) return std::move(*refused);
  const json::object& o = std::get<json::object>(members);
  const auto customer = StringMember(o, "customer");
  if (!customer) return Invalid("customer", "required: an account number or id");
  const Status s = self.clienteling.AddToBook(CallerOf(call), StringMember(o, "owner").value_or(""), *customer);
  if (!s.ok()) return Error(s);
  return Reply{201, json::object{{"added", *customer}}};
}

std::optional<Reply> RemoveFromBook(ApiContext& self, Call& call) {
  const std::string& ref = call.param(0);
  const Status s = self.clienteling.RemoveFromBook(CallerOf(call), call.query("owner").value_or(""), ref);
  if (!s.ok()) return Error(s);
  return Reply{200, json::object{{"removed", ref}}};
}

std::optional<Reply> Reassign(ApiContext& self, Call& call) {
  auto body = http::ParseJsonObject(call.request());
  if (!body.ok()) return Error(body.status());
  const json::object& o = *body;
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
  auto moved = self.clienteling.Reassign(CallerOf(call), *from, *to, refs);
  if (!moved.ok()) return Error(moved.status());
  return Reply{200, json::object{{"reassigned", *moved}, {"from", *from}, {"to", *to}}};
}

std::optional<Reply> Card(ApiContext& self, Call& call) {
  auto c = self.clienteling.CardOf(CallerOf(call), call.param(0));
  if (!c.ok()) return Error(c.status());
  self.access.Record(m::AccessAction::kOpened, ActorOf(call), c->customer.id);
  json::array books;
  for (const auto& b : c->books) books.emplace_back(b);
  return Reply{200, json::object{{"customer", CustomerJson(c->customer)},
                                 {"facts", FactsJson(c->facts)},
                                 {"books", std::move(books)}}};
}

std::optional<Reply> Timeline(ApiContext& self, Call& call) {
  std::size_t limit = 50;
  if (const auto l = call.query("limit")) {
    const auto n = ParseSize(*l);
    if (!n || *n == 0 || *n > 500) return Invalid("limit", "must be a number from 1 to 500");
    limit = *n;
  }
  auto entries = self.clienteling.Timeline(CallerOf(call), call.param(0), limit);
  if (!entries.ok()) return Error(entries.status());
  // An empty timeline shows nothing of the customer: only entries are recorded.
  if (!entries->empty()) self.access.Record(m::AccessAction::kOpened, ActorOf(call), entries->front().customer_id);
  json::array out;
  for (const auto& e : *entries) out.push_back(TimelineJson(e));
  return Reply{200, json::object{{"timeline", std::move(out)}}};
}

std::optional<Reply> Consents(ApiContext& self, Call& call) {
  auto entries = self.clienteling.Consents(CallerOf(call), call.param(0));
  if (!entries.ok()) return Error(entries.status());
  if (!entries->empty()) self.access.Record(m::AccessAction::kOpened, ActorOf(call), entries->front().customer_id);
  json::array out;
  for (const auto& e : *entries) out.push_back(http::ConsentJson(e));
  return Reply{200, json::object{{"consents", std::move(out)}}};
}

namespace {

std::optional<Reply> AddTimelineEntry(ApiContext& self, Call& call, bool activity) {
  auto members = activity ? StringMembers(call, {"text", "type", "at"}) : StringMembers(call, {"text"});
  if (auto* refused = std::get_if<Reply>(&members)) return std::move(*refused);
  const json::object& o = std::get<json::object>(members);
  const std::string& ref = call.param(0);
  const std::string text = StringMember(o, "text").value_or("");
  Result<m::TimelineEntry> entry = Status(StatusCode::kInternal, "timeline: unreachable");
  if (activity) {
    const auto type = StringMember(o, "type");
    if (!type) return Invalid("type", "required: an activity type id (GET /v1/clienteling)");
    std::int64_t at_ms = 0;
    if (const auto at = StringMember(o, "at")) {
      const auto parsed = ParseIsoTime(*at);
      if (!parsed) return Invalid("at", "not a time like 2026-11-22T10:30:00Z");
      at_ms = *parsed;
    }
    entry = self.clienteling.AddActivity(CallerOf(call), ref, *type, at_ms, text);
  } else {
    entry = self.clienteling.AddNote(CallerOf(call), ref, text);
  }
  if (!entry.ok()) return Error(entry.status());
  return Reply{201, TimelineJson(*entry)};
}

}  // namespace

std::optional<Reply> AddActivity(ApiContext& self, Call& call) { return AddTimelineEntry(self, call, true); }
std::optional<Reply> AddNote(ApiContext& self, Call& call) { return AddTimelineEntry(self, call, false); }

}  // namespace kassa::api
