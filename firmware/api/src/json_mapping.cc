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

// Reads one member of a known type; reports the member on a wrong type.
Status GetString(const json::value& v, const std::string& name, std::string& out, std::string& field) {
  if (!v.is_string()) return InvalidAt(field, name, "must be a string");
  out = std::string(v.get_string());
  return Status::Ok();
}

Status GetStringList(const json::value& v, const std::string& name, std::vector<std::string>& out,
                     std::string& field) {
  if (!v.is_array()) return InvalidAt(field, name, "must be an array of strings");
  out.clear();
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return InvalidAt(field, name, "must be an array of strings");
    out.emplace_back(e.get_string());
  }
  return Status::Ok();
}

Status GetContacts(const json::value& v, const std::string& name, std::vector<customers::ContactInput>& out,
                   std::string& field) {
  if (!v.is_array()) return InvalidAt(field, name, "must be an array of {\"value\", \"consent\"} objects or strings");
  out.clear();
  for (const auto& e : v.get_array()) {
    customers::ContactInput in;
    if (e.is_string()) {
      in.value = std::string(e.get_string());
    } else if (e.is_object()) {
      for (const auto& [key, val] : e.get_object()) {
        if (key == "value") {
          KASSA_TRY(GetString(val, name + ".value", in.value, field));
        } else if (key == "consent") {
          if (!val.is_bool()) return InvalidAt(field, name + ".consent", "must be true or false");
          in.consent = val.get_bool();
        } else if (key == "consent_text_version") {
          KASSA_TRY(GetString(val, name + ".consent_text_version", in.consent_text_version, field));
        } else {
          return InvalidAt(field, name + "." + std::string(key), "unknown member");
        }
      }
    } else {
      return InvalidAt(field, name, "must be an array of {\"value\", \"consent\"} objects or strings");
    }
    out.push_back(std::move(in));
  }
  return Status::Ok();
}

// {"granted": bool, "text_version": "..."}: a primary contact's consent.
Status GetConsent(const json::value& v, const std::string& name, customers::ConsentInput& out, std::string& field) {
  if (!v.is_object()) return InvalidAt(field, name, "must be an object {\"granted\", \"text_version\"}");
  bool saw_granted = false;
  for (const auto& [key, val] : v.get_object()) {
    if (key == "granted") {
      if (!val.is_bool()) return InvalidAt(field, name + ".granted", "must be true or false");
      out.granted = val.get_bool();
      saw_granted = true;
    } else if (key == "text_version") {
      KASSA_TRY(GetString(val, name + ".text_version", out.text_version, field));
    } else if (key == "captured_at" || key == "operator" || key == "terminal") {
      return InvalidAt(field, name + "." + std::string(key), "is set by kassa and cannot be given");
    } else {
      return InvalidAt(field, name + "." + std::string(key), "unknown member");
    }
  }
  if (!saw_granted) return InvalidAt(field, name + ".granted", "required: true or false");
  return Status::Ok();
}

Status GetAddresses(const json::value& v, std::vector<customers::AddressInput>& out, std::string& field) {
  if (!v.is_array()) return InvalidAt(field, "addresses", "must be an array of objects");
  out.clear();
  for (const auto& e : v.get_array()) {
    if (!e.is_object()) return InvalidAt(field, "addresses", "must be an array of objects");
    customers::AddressInput a;
    for (const auto& [key, val] : e.get_object()) {
      const std::string name = "addresses." + std::string(key);
      std::string s;
      KASSA_TRY(GetString(val, name, s, field));
      if (key == "purpose") {
        m::AddressPurpose p;
        if (!m::ParseAddressPurpose(s, &p)) return InvalidAt(field, name, "must be home, business, office or post_box");
        a.purpose = p;
      } else if (key == "street") a.street = s;
      else if (key == "city") a.city = s;
      else if (key == "postal_code") a.postal_code = s;
      else if (key == "region") a.region = s;
      else if (key == "country") a.country = s;
      else if (key == "contact_name") a.contact_name = s;
      else if (key == "contact_phone") a.contact_phone = s;
      else return InvalidAt(field, name, "unknown member");
    }
    out.push_back(std::move(a));
  }
  return Status::Ok();
}

Status GetAttributes(const json::value& v, std::vector<m::AttributeValue>& out, std::string& field) {
  if (!v.is_array()) return InvalidAt(field, "attributes", "must be an array of {\"name\", \"value\"} objects");
  out.clear();
  for (const auto& e : v.get_array()) {
    if (!e.is_object()) return InvalidAt(field, "attributes", "must be an array of {\"name\", \"value\"} objects");
    m::AttributeValue a;
    for (const auto& [key, val] : e.get_object()) {
      if (key == "name") {
        KASSA_TRY(GetString(val, "attributes.name", a.name, field));
      } else if (key == "value") {
        KASSA_TRY(GetString(val, "attributes.value", a.value, field));
      } else {
        return InvalidAt(field, "attributes." + std::string(key), "unknown member");
      }
    }
    out.push_back(std::move(a));
  }
  return Status::Ok();
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

Status ParsePatch(const json::value& body, customers::CustomerPatch& p, std::uint32_t* expected_version,
                  std::string& field) {
  field.clear();
  if (!body.is_object()) return InvalidAt(field, "body", "must be a JSON object");
  bool saw_version = false;
  for (const auto& entry : body.get_object()) {
    // Not a structured binding: lambdas below use the value (clang 14 cannot capture bindings).
    const std::string key(entry.key());
    const json::value& v = entry.value();
    const auto text = [&](std::optional<std::string>& member) -> Status {
      std::string s;
      KASSA_TRY(GetString(v, key, s, field));
      member = std::move(s);
      return Status::Ok();
    };
    Status err;
    if (key == "type") {
      std::string s;
      KASSA_TRY(GetString(v, key, s, field));
      m::CustomerType t;
      if (!m::ParseCustomerType(s, &t)) return InvalidAt(field, key, "must be person or organization");
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
      KASSA_TRY(GetString(v, key, s, field));
      m::ReceiptPreference r;
      if (!m::ParseReceiptPreference(s, &r)) return InvalidAt(field, key, "must be print, email, print_and_email or none");
      p.receipt_preference = r;
    } else if (key == "email_consent" || key == "phone_consent") {
      auto& consent = key == "email_consent" ? p.email_consent : p.phone_consent;
      consent.emplace();
      err = GetConsent(v, key, *consent, field);
    } else if (key == "secondary_emails") {
      p.secondary_emails.emplace();
      err = GetContacts(v, key, *p.secondary_emails, field);
    } else if (key == "secondary_phones") {
      p.secondary_phones.emplace();
      err = GetContacts(v, key, *p.secondary_phones, field);
    } else if (key == "addresses") {
      p.addresses.emplace();
      err = GetAddresses(v, *p.addresses, field);
    } else if (key == "affiliations") {
      p.affiliations.emplace();
      err = GetStringList(v, key, *p.affiliations, field);
    } else if (key == "attributes") {
      p.attributes.emplace();
      err = GetAttributes(v, *p.attributes, field);
    } else if (key == "loyalty_cards") {
      p.loyalty_cards.emplace();
      err = GetStringList(v, key, *p.loyalty_cards, field);
    } else if (key == "version" && expected_version != nullptr) {
      if (!v.is_int64() && !v.is_uint64()) return InvalidAt(field, key, "must be the version number the edit starts from");
      const auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
      if (n < 1 || n > UINT32_MAX) return InvalidAt(field, key, "must be the version number the edit starts from");
      *expected_version = static_cast<std::uint32_t>(n);
      saw_version = true;
    } else if (key == "id" || key == "account" || key == "pending" || key == "name" || key == "created_at" ||
               key == "changed_at" || key == "version") {
      return InvalidAt(field, key, "is set by kassa and cannot be given");
    } else {
      return InvalidAt(field, key, "unknown member");
    }
    KASSA_TRY(err);
  }
  if (expected_version != nullptr && !saw_version) {
    return InvalidAt(field, "version", "required: the version the edit starts from (from the customer you loaded)");
  }
  return Status::Ok();
}

}  // namespace kassa::api
