#include "kassa/config/store_config_json.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "kassa/base/atomic_file.h"

namespace kassa::config {
namespace json = boost::json;
namespace m = kassa::model;

using Error = JsonError;

Error ReadString(const json::object& o, const char* key, const std::string& where, std::string& out, bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return required ? Error(where + key + ": required") : Error();
  if (!v->is_string()) return where + key + ": must be a string";
  out = std::string(v->get_string());
  return std::nullopt;
}

Error ReadBool(const json::object& o, const char* key, bool& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) return std::string(key) + ": must be true or false";
  out = v->get_bool();
  return std::nullopt;
}

Error CheckMembers(const json::object& o, std::initializer_list<std::string_view> known, const std::string& where) {
  for (const auto& [key, value] : o) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) return where + std::string(key) + ": unknown member";
  }
  return std::nullopt;
}

namespace {

Error ReadDefaultCustomer(const json::value& v, m::DefaultCustomer& d) {
  const std::string w = "default_customer.";
  if (!v.is_object()) return std::string("default_customer: must be an object");
  const json::object& o = v.get_object();
  if (auto e = CheckMembers(o, {"account", "type", "customer_group", "receipt_preference", "receipt_email",
                                "currency", "language", "affiliations"}, w)) return e;
  std::string s;
  if (auto e = ReadString(o, "account", w, d.account, true)) return e;
  if (auto e = ReadString(o, "type", w, s, true)) return e;
  if (!m::ParseCustomerType(s, &d.type)) return w + "type: must be person or organization";
  if (auto e = ReadString(o, "customer_group", w, d.customer_group, true)) return e;
  s = "print";
  if (auto e = ReadString(o, "receipt_preference", w, s, false)) return e;
  if (!m::ParseReceiptPreference(s, &d.receipt_preference)) {
    return w + "receipt_preference: must be print, email, print_and_email or none";
  }
  if (auto e = ReadString(o, "receipt_email", w, d.receipt_email, false)) return e;
  if (auto e = ReadString(o, "currency", w, d.currency, true)) return e;
  if (auto e = ReadString(o, "language", w, d.language, true)) return e;
  if (const json::value* a = o.if_contains("affiliations")) {
    if (!a->is_array()) return w + "affiliations: must be an array of strings";
    for (const auto& e : a->get_array()) {
      if (!e.is_string()) return w + "affiliations: must be an array of strings";
      d.affiliations.emplace_back(e.get_string());
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ParseStoreConfig(const json::value& root, m::StoreConfig& out) {
  if (!root.is_object()) return std::string("must hold a JSON object");
  const json::object& o = root.get_object();
  if (auto e = CheckMembers(o, {"store_id", "legal_entity", "operating_unit_country", "default_customer",
                                "customer_groups", "creation_mode", "allow_offline_creation"}, "")) {
    return e;
  }
  m::StoreConfig c;
  std::string mode = "sync";
  Error err;
  if (!err) err = ReadString(o, "store_id", "", c.store_id, true);
  if (!err) err = ReadString(o, "legal_entity", "", c.legal_entity, true);
  if (!err) err = ReadString(o, "operating_unit_country", "", c.operating_unit_country, true);
  if (!err) err = ReadString(o, "creation_mode", "", mode, false);
  if (!err && !m::ParseCreationMode(mode, &c.creation_mode)) err = "creation_mode: must be sync or async";
  if (!err) err = ReadBool(o, "allow_offline_creation", c.allow_offline_creation);
  if (!err) {
    const json::value* groups = o.if_contains("customer_groups");
    if (groups == nullptr || !groups->is_array()) {
      err = "customer_groups: required, an array of {\"id\", \"name\"}";
    } else {
      for (const auto& g : groups->get_array()) {
        if (!g.is_object()) {
          err = "customer_groups: must be an array of {\"id\", \"name\"}";
          break;
        }
        m::CustomerGroup group;
        err = CheckMembers(g.get_object(), {"id", "name"}, "customer_groups.");
        if (!err) err = ReadString(g.get_object(), "id", "customer_groups.", group.id, true);
        if (!err) err = ReadString(g.get_object(), "name", "customer_groups.", group.name, false);
        if (err) break;
        c.customer_groups.push_back(std::move(group));
      }
    }
  }
  if (!err) {
    const json::value* d = o.if_contains("default_customer");
    err = d == nullptr ? Error("default_customer: required") : ReadDefaultCustomer(*d, c.default_customer);
  }
  if (err) return err;
  if (const Status s = m::ValidateStoreConfig(c); !s.ok()) return std::string(s.detail());
  out = std::move(c);
  return std::nullopt;
}

json::object StoreConfigToJson(const m::StoreConfig& s) {
  json::array groups;
  for (const auto& g : s.customer_groups) groups.push_back(json::object{{"id", g.id}, {"name", g.name}});
  const m::DefaultCustomer& d = s.default_customer;
  json::array affiliations;
  for (const auto& a : d.affiliations) affiliations.emplace_back(a);
  return json::object{
      {"store_id", s.store_id},
      {"legal_entity", s.legal_entity},
      {"operating_unit_country", s.operating_unit_country},
      {"creation_mode", m::ToString(s.creation_mode)},
      {"allow_offline_creation", s.allow_offline_creation},
      {"customer_groups", std::move(groups)},
      {"default_customer", json::object{{"account", d.account}, {"type", m::ToString(d.type)},
                                        {"customer_group", d.customer_group},
                                        {"receipt_preference", m::ToString(d.receipt_preference)},
                                        {"receipt_email", d.receipt_email}, {"currency", d.currency},
                                        {"language", d.language}, {"affiliations", std::move(affiliations)}}},
  };
}

std::optional<std::string> ReadJsonFile(const std::string& path, json::value& out) {
  std::ifstream in(path);
  if (!in) return path + ": cannot be read";
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  out = json::parse(text.str(), ec);
  if (ec) return path + ": not valid JSON (" + ec.message() + ")";
  return std::nullopt;
}

std::optional<std::string> LoadStoreConfigFile(const std::string& path, m::StoreConfig& out) {
  json::value root;
  if (auto e = ReadJsonFile(path, root)) return e;
  if (auto e = ParseStoreConfig(root, out)) return path + ": " + *e;
  return std::nullopt;
}

Status WriteStoreConfigFile(const std::string& path, const m::StoreConfig& config) {
  return kassa::WriteFileAtomically(path, json::serialize(StoreConfigToJson(config)) + "\n");
}

}  // namespace kassa::config
