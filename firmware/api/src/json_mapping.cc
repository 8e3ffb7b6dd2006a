#include "json_mapping.h"

#include "kassa/http/customer_json.h"
#include "kassa/config/store_config_json.h"

#include <ctime>
#include <functional>

namespace kassa::api {
namespace json = boost::json;
namespace m = kassa::model;

using http::CustomerJson;
using http::IsoTime;

namespace {

ApiError Bad(std::string field, std::string message) {
  return ApiError{400, "invalid_argument", std::move(field), std::move(message)};
}

// Reads one member of a known type; reports the member on a wrong type.
std::optional<ApiError> GetString(const json::value& v, const std::string& name, std::string& out) {
  if (!v.is_string()) return Bad(name, "must be a string");
  out = std::string(v.get_string());
  return std::nullopt;
}

std::optional<ApiError> GetStringList(const json::value& v, const std::string& name, std::vector<std::string>& out) {
  if (!v.is_array()) return Bad(name, "must be an array of strings");
  out.clear();
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return Bad(name, "must be an array of strings");
    out.emplace_back(e.get_string());
  }
  return std::nullopt;
}

std::optional<ApiError> GetContacts(const json::value& v, const std::string& name,
                                    std::vector<customers::ContactInput>& out) {
  if (!v.is_array()) return Bad(name, "must be an array of {\"value\", \"consent\"} objects or strings");
  out.clear();
  for (const auto& e : v.get_array()) {
    customers::ContactInput in;
    if (e.is_string()) {
      in.value = std::string(e.get_string());
    } else if (e.is_object()) {
      for (const auto& [key, val] : e.get_object()) {
        if (key == "value") {
          if (auto err = GetString(val, name + ".value", in.value)) return err;
        } else if (key == "consent") {
          if (!val.is_bool()) return Bad(name + ".consent", "must be true or false");
          in.consent = val.get_bool();
        } else if (key == "consent_text_version") {
          if (auto err = GetString(val, name + ".consent_text_version", in.consent_text_version)) return err;
        } else {
          return Bad(name + "." + std::string(key), "unknown member");
        }
      }
    } else {
      return Bad(name, "must be an array of {\"value\", \"consent\"} objects or strings");
    }
    out.push_back(std::move(in));
  }
  return std::nullopt;
}

std::optional<ApiError> GetAddresses(const json::value& v, std::vector<customers::AddressInput>& out) {
  if (!v.is_array()) return Bad("addresses", "must be an array of objects");
  out.clear();
  for (const auto& e : v.get_array()) {
    if (!e.is_object()) return Bad("addresses", "must be an array of objects");
    customers::AddressInput a;
    for (const auto& [key, val] : e.get_object()) {
      const std::string name = "addresses." + std::string(key);
      std::string s;
      if (auto err = GetString(val, name, s)) return err;
      if (key == "purpose") {
        m::AddressPurpose p;
        if (!m::ParseAddressPurpose(s, &p)) return Bad(name, "must be home, business, office or post_box");
        a.purpose = p;
      } else if (key == "street") a.street = s;
      else if (key == "city") a.city = s;
      else if (key == "postal_code") a.postal_code = s;
      else if (key == "region") a.region = s;
      else if (key == "country") a.country = s;
      else if (key == "contact_name") a.contact_name = s;
      else if (key == "contact_phone") a.contact_phone = s;
      else return Bad(name, "unknown member");
    }
    out.push_back(std::move(a));
  }
  return std::nullopt;
}

std::optional<ApiError> GetAttributes(const json::value& v, std::vector<m::AttributeValue>& out) {
  if (!v.is_array()) return Bad("attributes", "must be an array of {\"name\", \"value\"} objects");
  out.clear();
  for (const auto& e : v.get_array()) {
    if (!e.is_object()) return Bad("attributes", "must be an array of {\"name\", \"value\"} objects");
    m::AttributeValue a;
    for (const auto& [key, val] : e.get_object()) {
      if (key == "name") {
        if (auto err = GetString(val, "attributes.name", a.name)) return err;
      } else if (key == "value") {
        if (auto err = GetString(val, "attributes.value", a.value)) return err;
      } else {
        return Bad("attributes." + std::string(key), "unknown member");
      }
    }
    out.push_back(std::move(a));
  }
  return std::nullopt;
}

}  // namespace

json::object OutboxEntryJson(const storage::OutboxEntry& e, std::int64_t now_ms) {
  return json::object{{"seq", e.seq},
                      {"kind", m::ToString(e.operation.kind)},
                      {"customer_id", e.operation.customer.id.ToHex()},
                      {"enqueued_at", IsoTime(e.operation.enqueued_at_ms)},
                      {"age_seconds", (now_ms - e.operation.enqueued_at_ms) / 1000}};
}

json::object DeviceStatusJson(const hal::DeviceStatus& s) {
  return json::object{{"state", hal::ToString(s.state)}, {"detail", s.detail}};
}

json::object EventJson(const devices::Event& e) {
  json::object o{{"type", devices::ToString(e.kind)}, {"device", e.device}};
  if (!e.code.empty()) o["code"] = e.code;
  o["customer"] = e.customer ? json::value(CustomerJson(*e.customer)) : json::value(nullptr);
  if (e.kind == devices::Event::Kind::kDeviceStatus) o["status"] = DeviceStatusJson(e.status);
  if (!e.detail.empty()) o["detail"] = e.detail;
  return o;
}

std::optional<ApiError> ParsePatch(const json::value& body, customers::CustomerPatch& p,
                                   std::uint32_t* expected_version) {
  if (!body.is_object()) return Bad("body", "must be a JSON object");
  bool saw_version = false;
  for (const auto& [key_sv, v] : body.get_object()) {
    const std::string key(key_sv);
    const auto text = [&](std::optional<std::string>& field) -> std::optional<ApiError> {
      std::string s;
      if (auto err = GetString(v, key, s)) return err;
      field = std::move(s);
      return std::nullopt;
    };
    std::optional<ApiError> err;
    if (key == "type") {
      std::string s;
      if ((err = GetString(v, key, s))) return err;
      m::CustomerType t;
      if (!m::ParseCustomerType(s, &t)) return Bad(key, "must be person or organization");
      p.type = t;
    } else if (key == "first_name") err = text(p.first_name);
    else if (key == "last_name") err = text(p.last_name);
    else if (key == "organization_name") err = text(p.organization_name);
    else if (key == "email") err = text(p.email);
    else if (key == "phone") err = text(p.phone);
    else if (key == "customer_group") err = text(p.customer_group);
    else if (key == "receipt_email") err = text(p.receipt_email);
    else if (key == "currency") err = text(p.currency);
    else if (key == "language") err = text(p.language);
    else if (key == "receipt_preference") {
      std::string s;
      if ((err = GetString(v, key, s))) return err;
      m::ReceiptPreference r;
      if (!m::ParseReceiptPreference(s, &r)) return Bad(key, "must be print, email, print_and_email or none");
      p.receipt_preference = r;
    } else if (key == "secondary_emails") {
      p.secondary_emails.emplace();
      err = GetContacts(v, key, *p.secondary_emails);
    } else if (key == "secondary_phones") {
      p.secondary_phones.emplace();
      err = GetContacts(v, key, *p.secondary_phones);
    } else if (key == "addresses") {
      p.addresses.emplace();
      err = GetAddresses(v, *p.addresses);
    } else if (key == "affiliations") {
      p.affiliations.emplace();
      err = GetStringList(v, key, *p.affiliations);
    } else if (key == "attributes") {
      p.attributes.emplace();
      err = GetAttributes(v, *p.attributes);
    } else if (key == "loyalty_cards") {
      p.loyalty_cards.emplace();
      err = GetStringList(v, key, *p.loyalty_cards);
    } else if (key == "version" && expected_version != nullptr) {
      if (!v.is_int64() && !v.is_uint64()) return Bad(key, "must be the version number the edit starts from");
      const auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
      if (n < 1 || n > UINT32_MAX) return Bad(key, "must be the version number the edit starts from");
      *expected_version = static_cast<std::uint32_t>(n);
      saw_version = true;
    } else if (key == "id" || key == "account" || key == "pending" || key == "name" || key == "created_at" ||
               key == "changed_at" || key == "version") {
      return Bad(key, "is set by kassa and cannot be given");
    } else {
      return Bad(key, "unknown member");
    }
    if (err) return err;
  }
  if (expected_version != nullptr && !saw_version) {
    return Bad("version", "required: the version the edit starts from (from the customer you loaded)");
  }
  return std::nullopt;
}

}  // namespace kassa::api
