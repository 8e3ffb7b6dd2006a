#include "kassa/config/store_config_json.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "kassa/base/log.h"

namespace kassa::config {
namespace json = boost::json;
namespace m = kassa::model;

Status ReadString(const json::object& o, const char* key, const std::string& where, std::string& out, bool required,
                  std::string& field) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return required ? InvalidAt(field, where + key, "required") : Status::Ok();
  if (!v->is_string()) return InvalidAt(field, where + key, "must be a string");
  out = std::string(v->get_string());
  return Status::Ok();
}

Status ReadBool(const json::object& o, const char* key, const std::string& where, bool& out, std::string& field) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_bool()) return InvalidAt(field, where + key, "must be true or false");
  out = v->get_bool();
  return Status::Ok();
}

Status ReadU32(const json::object& o, const char* key, const std::string& where, std::uint32_t& out,
               std::string& field) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_int64() || v->get_int64() < 0 || v->get_int64() > 1000000) {
    return InvalidAt(field, where + key, "must be a whole number from 0 to 1000000");
  }
  out = static_cast<std::uint32_t>(v->get_int64());
  return Status::Ok();
}

Status CheckMembers(const json::object& o, std::initializer_list<std::string_view> known, const std::string& where,
                    std::string& field) {
  for (const auto& [key, value] : o) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) return InvalidAt(field, where + std::string(key), "unknown member");
  }
  return Status::Ok();
}

namespace {

Status ReadDefaultCustomer(const json::value& v, m::DefaultCustomer& d, std::string& field) {
  const std::string w = "default_customer.";
  if (!v.is_object()) return InvalidAt(field, "default_customer", "must be an object");
  const json::object& o = v.get_object();
  KASSA_TRY(CheckMembers(o, {"account", "type", "customer_group", "receipt_preference", "receipt_email", "currency",
                             "language", "affiliations"}, w, field));
  std::string s;
  KASSA_TRY(ReadString(o, "account", w, d.account, true, field));
  KASSA_TRY(ReadString(o, "type", w, s, true, field));
  if (!m::ParseCustomerType(s, &d.type)) return InvalidAt(field, w + "type", "must be person or organization");
  KASSA_TRY(ReadString(o, "customer_group", w, d.customer_group, true, field));
  s = "print";
  KASSA_TRY(ReadString(o, "receipt_preference", w, s, false, field));
  if (!m::ParseReceiptPreference(s, &d.receipt_preference)) {
    return InvalidAt(field, w + "receipt_preference", "must be print, email, print_and_email or none");
  }
  KASSA_TRY(ReadString(o, "receipt_email", w, d.receipt_email, false, field));
  KASSA_TRY(ReadString(o, "currency", w, d.currency, true, field));
  KASSA_TRY(ReadString(o, "language", w, d.language, true, field));
  if (const json::value* a = o.if_contains("affiliations")) {
    if (!a->is_array()) return InvalidAt(field, w + "affiliations", "must be an array of strings");
    for (const auto& e : a->get_array()) {
      if (!e.is_string()) return InvalidAt(field, w + "affiliations", "must be an array of strings");
      d.affiliations.emplace_back(e.get_string());
    }
  }
  return Status::Ok();
}

}  // namespace

Status ParseStoreConfig(const json::value& root, m::StoreConfig& out, std::string& field) {
  field.clear();
  if (!root.is_object()) return InvalidAt(field, "", "must hold a JSON object");
  const json::object& o = root.get_object();
  KASSA_TRY(CheckMembers(o, {"store_id", "legal_entity", "operating_unit_country", "default_customer",
                             "customer_groups", "creation_mode", "allow_offline_creation", "lock_after_offline_days"},
                         "", field));
  m::StoreConfig c;
  std::string mode = "sync";
  KASSA_TRY(ReadString(o, "store_id", "", c.store_id, true, field));
  KASSA_TRY(ReadString(o, "legal_entity", "", c.legal_entity, true, field));
  KASSA_TRY(ReadString(o, "operating_unit_country", "", c.operating_unit_country, true, field));
  KASSA_TRY(ReadString(o, "creation_mode", "", mode, false, field));
  if (!m::ParseCreationMode(mode, &c.creation_mode)) return InvalidAt(field, "creation_mode", "must be sync or async");
  KASSA_TRY(ReadBool(o, "allow_offline_creation", "", c.allow_offline_creation, field));
  KASSA_TRY(ReadU32(o, "lock_after_offline_days", "", c.lock_after_offline_days, field));
  const json::value* groups = o.if_contains("customer_groups");
  if (groups == nullptr || !groups->is_array()) {
    return InvalidAt(field, "customer_groups", "required, an array of {\"id\", \"name\"}");
  }
  for (const auto& g : groups->get_array()) {
    if (!g.is_object()) return InvalidAt(field, "customer_groups", "must be an array of {\"id\", \"name\"}");
    m::CustomerGroup group;
    KASSA_TRY(CheckMembers(g.get_object(), {"id", "name"}, "customer_groups.", field));
    KASSA_TRY(ReadString(g.get_object(), "id", "customer_groups.", group.id, true, field));
    KASSA_TRY(ReadString(g.get_object(), "name", "customer_groups.", group.name, false, field));
    c.customer_groups.push_back(std::move(group));
  }
  const json::value* d = o.if_contains("default_customer");
  if (d == nullptr) return InvalidAt(field, "default_customer", "required");
  KASSA_TRY(ReadDefaultCustomer(*d, c.default_customer, field));
  if (const Status s = m::ValidateStoreConfig(c); !s.ok()) {
    field = std::string(s.field());
    return s;
  }
  out = std::move(c);
  return Status::Ok();
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
      {"lock_after_offline_days", s.lock_after_offline_days},
      {"customer_groups", std::move(groups)},
      {"default_customer", json::object{{"account", d.account}, {"type", m::ToString(d.type)},
                                        {"customer_group", d.customer_group},
                                        {"receipt_preference", m::ToString(d.receipt_preference)},
                                        {"receipt_email", d.receipt_email}, {"currency", d.currency},
                                        {"language", d.language}, {"affiliations", std::move(affiliations)}}},
  };
}

Status ReadJsonFile(const std::string& path, json::value& out) {
  std::ifstream in(path);
  if (!in) {
    KASSA_LOG(kError) << path << ": cannot be read";
    return Status(StatusCode::kUnavailable, "file: cannot be read (see log)");
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  out = json::parse(text.str(), ec);
  if (ec) {
    KASSA_LOG(kError) << path << ": not valid JSON (" << ec.message() << ")";
    return Status(StatusCode::kInvalidArgument, "file: not valid JSON (see log)");
  }
  return Status::Ok();
}

Status LoadStoreConfigFile(const std::string& path, m::StoreConfig& out) {
  json::value root;
  KASSA_TRY(ReadJsonFile(path, root));
  std::string field;
  if (const Status s = ParseStoreConfig(root, out, field); !s.ok()) {
    LogInvalid(path, field, s);
    return Status(StatusCode::kInvalidArgument, "config: the store configuration file is not valid (see log)");
  }
  return Status::Ok();
}

void LogInvalid(const std::string& path, const std::string& field, const Status& status) {
  KASSA_LOG(kError) << path << ": " << (field.empty() ? std::string() : field + ": ") << status.message();
}

}  // namespace kassa::config
