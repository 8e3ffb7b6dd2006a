#include "kassa/config/clienteling_json.h"

#include "kassa/base/log.h"
#include "kassa/crypto/pin_hash.h"

namespace kassa::config {
namespace json = boost::json;
namespace m = kassa::model;

namespace {

Status ReadStrings(const json::object& o, const char* key, const std::string& where, std::vector<std::string>& out,
                   std::string& field) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return InvalidAt(field, where + key, "must be an array of strings");
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return InvalidAt(field, where + key, "must be an array of strings");
    out.emplace_back(e.get_string());
  }
  return Status::Ok();
}

// Calls `each(object, "NAME[i].")` for every element of array `v` named `name`.
template <typename Each>
Status ForEachElement(const json::value& v, const std::string& name, std::string& field, Each each) {
  if (!v.is_array()) return InvalidAt(field, name, "must be an array of objects");
  std::size_t i = 0;
  for (const auto& e : v.get_array()) {
    const std::string at = name + "[" + std::to_string(i++) + "]";
    if (!e.is_object()) return InvalidAt(field, at, "must be an object");
    KASSA_TRY(each(e.get_object(), at + "."));
  }
  return Status::Ok();
}

template <typename Each>
Status ForEachObject(const json::object& o, const char* key, const std::string& where, std::string& field,
                    Each each) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Status::Ok();
  return ForEachElement(*v, where + key, field, each);
}

}  // namespace

Status ParseClienteling(const json::value& v, const std::string& legal_entity, const std::string& where,
                        m::ClientelingConfig& out, std::string& field) {
  if (!v.is_object()) return InvalidAt(field, where, "must be an object");
  const json::object& o = v.get_object();
  const std::string w = where + ".";
  KASSA_TRY(CheckMembers(o, {"roles", "attributes", "activity_types", "consent_texts", "idle_timeout_s",
                             "max_pin_attempts", "lockout_s"},
                         w, field));
  out = m::ClientelingConfig{};
  out.legal_entity = legal_entity;
  KASSA_TRY(ForEachObject(o, "roles", w, field, [&](const json::object& r, const std::string& at) -> Status {
        KASSA_TRY(CheckMembers(r, {"id", "name", "permissions"}, at, field));
        m::Role role;
        KASSA_TRY(ReadString(r, "id", at, role.id, true, field));
        KASSA_TRY(ReadString(r, "name", at, role.name, false, field));
        std::vector<std::string> names;
        KASSA_TRY(ReadStrings(r, "permissions", at, names, field));
        for (const auto& n : names) {
          const auto p = m::ParsePermission(n);
          if (!p) {
            KASSA_LOG(kWarning) << at << "permissions: unknown permission " << n;
            return InvalidAt(field, at + "permissions", "an unknown permission (see docs/API.md)");
          }
          role.permissions |= m::Bit(*p);
        }
        out.roles.push_back(std::move(role));
        return Status::Ok();
      }));
  KASSA_TRY(ForEachObject(o, "attributes", w, field, [&](const json::object& a, const std::string& at) -> Status {
        KASSA_TRY(CheckMembers(a, {"name", "label", "type", "display_order", "refinable", "choices"}, at, field));
        m::AttributeDefinition def;
        std::string type;
        KASSA_TRY(ReadString(a, "name", at, def.name, true, field));
        KASSA_TRY(ReadString(a, "label", at, def.label, false, field));
        KASSA_TRY(ReadString(a, "type", at, type, true, field));
        const auto t = m::ParseAttributeType(type);
        if (!t) return InvalidAt(field, at + "type", "must be text, number, decimal, yes_no, date or choice");
        def.type = *t;
        KASSA_TRY(ReadU32(a, "display_order", at, def.display_order, field));
        KASSA_TRY(ReadBool(a, "refinable", at, def.refinable, field));
        KASSA_TRY(ReadStrings(a, "choices", at, def.choices, field));
        out.attributes.push_back(std::move(def));
        return Status::Ok();
      }));
  KASSA_TRY(ForEachObject(o, "activity_types", w, field, [&](const json::object& a, const std::string& at) -> Status {
        KASSA_TRY(CheckMembers(a, {"id", "name"}, at, field));
        m::ActivityType t;
        KASSA_TRY(ReadString(a, "id", at, t.id, true, field));
        KASSA_TRY(ReadString(a, "name", at, t.name, true, field));
        out.activity_types.push_back(std::move(t));
        return Status::Ok();
      }));
  KASSA_TRY(ForEachObject(o, "consent_texts", w, field, [&](const json::object& a, const std::string& at) -> Status {
        KASSA_TRY(CheckMembers(a, {"id", "version", "language", "text"}, at, field));
        m::ConsentText t;
        KASSA_TRY(ReadString(a, "id", at, t.id, true, field));
        KASSA_TRY(ReadString(a, "version", at, t.version, true, field));
        KASSA_TRY(ReadString(a, "language", at, t.language, true, field));
        KASSA_TRY(ReadString(a, "text", at, t.text, true, field));
        out.consent_texts.push_back(std::move(t));
        return Status::Ok();
      }));
  KASSA_TRY(ReadU32(o, "idle_timeout_s", w, out.idle_timeout_s, field));
  KASSA_TRY(ReadU32(o, "max_pin_attempts", w, out.max_pin_attempts, field));
  KASSA_TRY(ReadU32(o, "lockout_s", w, out.lockout_s, field));
  if (const Status s = m::CheckClientelingConfig(out, field); !s.ok()) {
    field = w + field;
    return s;
  }
  return Status::Ok();
}

Status ParseOperators(const json::value& v, const std::string& legal_entity, const std::string& where,
                      std::vector<m::Operator>& out, std::string& field) {
  out.clear();
  return ForEachElement(v, where, field, [&](const json::object& o, const std::string& at) -> Status {
    KASSA_TRY(CheckMembers(o, {"worker_id", "name", "stores", "former_stores", "role", "pin_hash", "badge",
                               "badge_hmac", "active"},
                           at, field));
    m::Operator op;
    op.legal_entity = legal_entity;
    KASSA_TRY(ReadString(o, "worker_id", at, op.worker_id, true, field));
    KASSA_TRY(ReadString(o, "name", at, op.name, true, field));
    KASSA_TRY(ReadStrings(o, "stores", at, op.stores, field));
    KASSA_TRY(ReadStrings(o, "former_stores", at, op.former_stores, field));
    KASSA_TRY(ReadString(o, "role", at, op.role, true, field));
    KASSA_TRY(ReadString(o, "pin_hash", at, op.pin_hash, false, field));
    if (!op.pin_hash.empty()) {
      if (const Status s = crypto::CheckPinHashFormat(op.pin_hash); !s.ok()) {
        field = at + std::string(s.field());
        return s;
      }
    }
    KASSA_TRY(ReadString(o, "badge", at, op.badge, false, field));
    KASSA_TRY(ReadString(o, "badge_hmac", at, op.badge_hmac, false, field));
    KASSA_TRY(ReadBool(o, "active", at, op.active, field));
    if (const Status s = m::CheckOperator(op, field); !s.ok()) {
      field = at + field;
      return s;
    }
    for (const auto& other : out) {
      if (other.worker_id == op.worker_id) return InvalidAt(field, at + "worker_id", "appears twice");
      if (!op.badge.empty() && other.badge == op.badge) return InvalidAt(field, at + "badge", "belongs to another operator");
      if (!op.badge_hmac.empty() && other.badge_hmac == op.badge_hmac) {
        return InvalidAt(field, at + "badge_hmac", "belongs to another operator");
      }
    }
    out.push_back(std::move(op));
    return Status::Ok();
  });
}

Status LoadClientelingFile(const std::string& path, const std::string& legal_entity, m::ClientelingConfig& config,
                           std::vector<m::Operator>& operators) {
  json::value root;
  KASSA_TRY(ReadJsonFile(path, root));
  std::string field;
  const auto invalid = [&](const Status& s) {
    LogInvalid(path, field, s);
    return Status(StatusCode::kInvalidArgument, "clienteling: the clienteling file is not valid (see log)");
  };
  if (!root.is_object()) return invalid(InvalidAt(field, "", "must hold a JSON object"));
  const json::object& o = root.get_object();
  if (Status s = CheckMembers(o, {"clienteling", "operators"}, "", field); !s.ok()) return invalid(s);
  const json::value* c = o.if_contains("clienteling");
  if (c == nullptr) return invalid(InvalidAt(field, "clienteling", "required"));
  if (Status s = ParseClienteling(*c, legal_entity, "clienteling", config, field); !s.ok()) return invalid(s);
  if (const json::value* ops = o.if_contains("operators")) {
    if (Status s = ParseOperators(*ops, legal_entity, "operators", operators, field); !s.ok()) return invalid(s);
  }
  for (std::size_t i = 0; i < operators.size(); ++i) {
    if (config.FindRole(operators[i].role) == nullptr) {
      return invalid(InvalidAt(field, "operators[" + std::to_string(i) + "].role", "not a role of clienteling.roles"));
    }
  }
  return Status::Ok();
}

json::object ClientelingToJson(const m::ClientelingConfig& c) {
  json::array roles;
  for (const auto& r : c.roles) {
    json::array perms;
    for (std::size_t i = 0; i < m::kPermissionCount; ++i) {
      const auto p = static_cast<m::Permission>(i);
      if (r.Allows(p)) perms.emplace_back(m::ToString(p));
    }
    roles.push_back(json::object{{"id", r.id}, {"name", r.name}, {"permissions", std::move(perms)}});
  }
  json::array attributes;
  for (const auto& a : c.attributes) {
    json::object o{{"name", a.name}, {"label", a.label}, {"type", m::ToString(a.type)},
                   {"display_order", a.display_order}, {"refinable", a.refinable}};
    if (!a.choices.empty()) {
      json::array choices;
      for (const auto& ch : a.choices) choices.emplace_back(ch);
      o["choices"] = std::move(choices);
    }
    attributes.push_back(std::move(o));
  }
  json::array types;
  for (const auto& t : c.activity_types) types.push_back(json::object{{"id", t.id}, {"name", t.name}});
  json::array texts;
  for (const auto& t : c.consent_texts) {
    texts.push_back(json::object{{"id", t.id}, {"version", t.version}, {"language", t.language}, {"text", t.text}});
  }
  return json::object{{"roles", std::move(roles)},
                      {"attributes", std::move(attributes)},
                      {"activity_types", std::move(types)},
                      {"consent_texts", std::move(texts)},
                      {"idle_timeout_s", c.idle_timeout_s},
                      {"max_pin_attempts", c.max_pin_attempts},
                      {"lockout_s", c.lockout_s}};
}

json::object OperatorToJson(const m::Operator& op, bool with_secrets) {
  json::array stores;
  for (const auto& s : op.stores) stores.emplace_back(s);
  json::object o{{"worker_id", op.worker_id}, {"name", op.name}, {"stores", std::move(stores)},
                 {"role", op.role}, {"active", op.active}};
  if (!op.former_stores.empty()) {
    json::array former;
    for (const auto& s : op.former_stores) former.emplace_back(s);
    o["former_stores"] = std::move(former);
  }
  if (with_secrets && !op.pin_hash.empty()) o["pin_hash"] = op.pin_hash;
  if (with_secrets && !op.badge.empty()) o["badge"] = op.badge;
  if (with_secrets && !op.badge_hmac.empty()) o["badge_hmac"] = op.badge_hmac;
  return o;
}

}  // namespace kassa::config
