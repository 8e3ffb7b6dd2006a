#include "kassa/config/clienteling_json.h"

#include "kassa/crypto/pin_hash.h"

namespace kassa::config {
namespace json = boost::json;
namespace m = kassa::model;

namespace {

JsonError ReadU32(const json::object& o, const char* key, const std::string& where, std::uint32_t& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_int64() || v->get_int64() < 0 || v->get_int64() > 1000000) {
    return where + key + ": must be a whole number from 0 to 1000000";
  }
  out = static_cast<std::uint32_t>(v->get_int64());
  return std::nullopt;
}

JsonError ReadStrings(const json::object& o, const char* key, const std::string& where, std::vector<std::string>& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) return where + key + ": must be an array of strings";
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return where + key + ": must be an array of strings";
    out.emplace_back(e.get_string());
  }
  return std::nullopt;
}

// Calls `each(object, "NAME[i].")` for every element of array `v` named `name`.
template <typename Each>
JsonError ForEachElement(const json::value& v, const std::string& name, Each each) {
  if (!v.is_array()) return name + ": must be an array of objects";
  std::size_t i = 0;
  for (const auto& e : v.get_array()) {
    const std::string at = name + "[" + std::to_string(i++) + "]";
    if (!e.is_object()) return at + ": must be an object";
    if (auto err = each(e.get_object(), at + ".")) return err;
  }
  return std::nullopt;
}

template <typename Each>
JsonError ForEachObject(const json::object& o, const char* key, const std::string& where, Each each) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  return ForEachElement(*v, where + key, each);
}

}  // namespace

JsonError ParseClienteling(const json::value& v, const std::string& legal_entity, const std::string& where,
                           m::ClientelingConfig& out) {
  if (!v.is_object()) return where + ": must be an object";
  const json::object& o = v.get_object();
  const std::string w = where + ".";
  if (auto e = CheckMembers(o, {"roles", "attributes", "activity_types", "idle_timeout_s", "max_pin_attempts", "lockout_s"}, w)) {
    return e;
  }
  out = m::ClientelingConfig{};
  out.legal_entity = legal_entity;
  if (auto e = ForEachObject(o, "roles", w, [&](const json::object& r, const std::string& at) -> JsonError {
        if (auto err = CheckMembers(r, {"id", "name", "permissions"}, at)) return err;
        m::Role role;
        if (auto err = ReadString(r, "id", at, role.id, true)) return err;
        if (auto err = ReadString(r, "name", at, role.name, false)) return err;
        std::vector<std::string> names;
        if (auto err = ReadStrings(r, "permissions", at, names)) return err;
        for (const auto& n : names) {
          const auto p = m::ParsePermission(n);
          if (!p) return at + "permissions: unknown permission " + n;
          role.permissions |= m::Bit(*p);
        }
        out.roles.push_back(std::move(role));
        return std::nullopt;
      })) {
    return e;
  }
  if (auto e = ForEachObject(o, "attributes", w, [&](const json::object& a, const std::string& at) -> JsonError {
        if (auto err = CheckMembers(a, {"name", "label", "type", "display_order", "refinable", "choices"}, at)) return err;
        m::AttributeDefinition def;
        std::string type;
        if (auto err = ReadString(a, "name", at, def.name, true)) return err;
        if (auto err = ReadString(a, "label", at, def.label, false)) return err;
        if (auto err = ReadString(a, "type", at, type, true)) return err;
        const auto t = m::ParseAttributeType(type);
        if (!t) return at + "type: must be text, number, decimal, yes_no, date or choice";
        def.type = *t;
        if (auto err = ReadU32(a, "display_order", at, def.display_order)) return err;
        if (auto err = ReadBool(a, "refinable", def.refinable)) return at + *err;
        if (auto err = ReadStrings(a, "choices", at, def.choices)) return err;
        out.attributes.push_back(std::move(def));
        return std::nullopt;
      })) {
    return e;
  }
  if (auto e = ForEachObject(o, "activity_types", w, [&](const json::object& a, const std::string& at) -> JsonError {
        if (auto err = CheckMembers(a, {"id", "name"}, at)) return err;
        m::ActivityType t;
        if (auto err = ReadString(a, "id", at, t.id, true)) return err;
        if (auto err = ReadString(a, "name", at, t.name, true)) return err;
        out.activity_types.push_back(std::move(t));
        return std::nullopt;
      })) {
    return e;
  }
  if (auto e = ReadU32(o, "idle_timeout_s", w, out.idle_timeout_s)) return e;
  if (auto e = ReadU32(o, "max_pin_attempts", w, out.max_pin_attempts)) return e;
  if (auto e = ReadU32(o, "lockout_s", w, out.lockout_s)) return e;
  if (std::string problem = m::ClientelingConfigProblem(out); !problem.empty()) return w + problem;
  return std::nullopt;
}

JsonError ParseOperators(const json::value& v, const std::string& legal_entity, const std::string& where,
                         std::vector<m::Operator>& out) {
  out.clear();
  return ForEachElement(v, where, [&](const json::object& o, const std::string& at) -> JsonError {
    if (auto err = CheckMembers(o, {"worker_id", "name", "stores", "role", "pin_hash", "badge", "active"}, at)) return err;
    m::Operator op;
    op.legal_entity = legal_entity;
    if (auto err = ReadString(o, "worker_id", at, op.worker_id, true)) return err;
    if (auto err = ReadString(o, "name", at, op.name, true)) return err;
    if (auto err = ReadStrings(o, "stores", at, op.stores)) return err;
    if (auto err = ReadString(o, "role", at, op.role, true)) return err;
    if (auto err = ReadString(o, "pin_hash", at, op.pin_hash, false)) return err;
    if (!op.pin_hash.empty()) {
      if (const Status s = crypto::CheckPinHashFormat(op.pin_hash); !s.ok()) return at + s.detail();
    }
    if (auto err = ReadString(o, "badge", at, op.badge, false)) return err;
    if (auto err = ReadBool(o, "active", op.active)) return at + *err;
    if (std::string problem = m::OperatorProblem(op); !problem.empty()) return at + problem;
    for (const auto& other : out) {
      if (other.worker_id == op.worker_id) return at + "worker_id: " + op.worker_id + " appears twice";
      if (!op.badge.empty() && other.badge == op.badge) return at + "badge: " + op.badge + " belongs to another operator";
    }
    out.push_back(std::move(op));
    return std::nullopt;
  });
}

JsonError LoadClientelingFile(const std::string& path, const std::string& legal_entity,
                              m::ClientelingConfig& config, std::vector<m::Operator>& operators) {
  json::value root;
  if (auto e = ReadJsonFile(path, root)) return e;
  if (!root.is_object()) return path + ": must hold a JSON object";
  const json::object& o = root.get_object();
  if (auto e = CheckMembers(o, {"clienteling", "operators"}, path + ": ")) return e;
  const json::value* c = o.if_contains("clienteling");
  if (c == nullptr) return path + ": clienteling: required";
  if (auto e = ParseClienteling(*c, legal_entity, "clienteling", config)) return path + ": " + *e;
  if (const json::value* ops = o.if_contains("operators")) {
    if (auto e = ParseOperators(*ops, legal_entity, "operators", operators)) return path + ": " + *e;
  }
  for (const auto& op : operators) {
    if (config.FindRole(op.role) == nullptr) return path + ": operators: " + op.worker_id + " has an unknown role";
  }
  return std::nullopt;
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
  return json::object{{"roles", std::move(roles)},
                      {"attributes", std::move(attributes)},
                      {"activity_types", std::move(types)},
                      {"idle_timeout_s", c.idle_timeout_s},
                      {"max_pin_attempts", c.max_pin_attempts},
                      {"lockout_s", c.lockout_s}};
}

json::object OperatorToJson(const m::Operator& op) {
  json::array stores;
  for (const auto& s : op.stores) stores.emplace_back(s);
  json::object o{{"worker_id", op.worker_id}, {"name", op.name}, {"stores", std::move(stores)},
                 {"role", op.role}, {"active", op.active}};
  if (!op.pin_hash.empty()) o["pin_hash"] = op.pin_hash;
  if (!op.badge.empty()) o["badge"] = op.badge;
  return o;
}

}  // namespace kassa::config
