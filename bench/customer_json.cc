#include "customer_json.h"

#include <boost/json.hpp>

namespace kassa::bench {
namespace {

namespace json = boost::json;
namespace m = model;

void Text(json::object& o, const char* name, const std::string& value) {
  if (!value.empty()) o[name] = value;
}

json::array Contacts(const std::vector<m::SecondaryContact>& contacts) {
  json::array out;
  for (const auto& c : contacts) {
    json::object consent{{"granted", c.consent.granted}, {"captured_at", c.consent.captured_at_ms}};
    Text(consent, "operator", c.consent.operator_id);
    Text(consent, "terminal", c.consent.terminal_id);
    out.push_back(json::object{{"value", c.value}, {"consent", std::move(consent)}});
  }
  return out;
}

json::object CustomerObject(const m::Customer& c) {
  json::object o;
  o["id"] = c.id.ToHex();
  Text(o, "account", c.account);
  o["type"] = m::ToString(c.type);
  Text(o, "first_name", c.first_name);
  Text(o, "last_name", c.last_name);
  Text(o, "organization_name", c.organization_name);
  Text(o, "email", c.email);
  Text(o, "phone", c.phone);
  if (!c.secondary_emails.empty()) o["secondary_emails"] = Contacts(c.secondary_emails);
  if (!c.secondary_phones.empty()) o["secondary_phones"] = Contacts(c.secondary_phones);
  json::array addresses;
  for (const auto& a : c.addresses) {
    json::object ao{{"purpose", m::ToString(a.purpose)}};
    Text(ao, "street", a.street);
    Text(ao, "city", a.city);
    Text(ao, "postal_code", a.postal_code);
    Text(ao, "region", a.region);
    Text(ao, "country", a.country);
    Text(ao, "contact_name", a.contact_name);
    Text(ao, "contact_phone", a.contact_phone);
    addresses.push_back(std::move(ao));
  }
  if (!addresses.empty()) o["addresses"] = std::move(addresses);
  Text(o, "customer_group", c.customer_group);
  o["receipt_preference"] = m::ToString(c.receipt_preference);
  Text(o, "receipt_email", c.receipt_email);
  Text(o, "currency", c.currency);
  Text(o, "language", c.language);
  if (!c.affiliations.empty()) o["affiliations"] = json::value_from(c.affiliations);
  json::array attributes;
  for (const auto& a : c.attributes) attributes.push_back(json::object{{"name", a.name}, {"value", a.value}});
  if (!attributes.empty()) o["attributes"] = std::move(attributes);
  if (!c.loyalty_cards.empty()) o["loyalty_cards"] = json::value_from(c.loyalty_cards);
  o["created_at"] = c.created_at_ms;
  o["changed_at"] = c.changed_at_ms;
  o["version"] = c.version;
  return o;
}

}  // namespace

std::string CompactJson(const model::Customer& customer) { return json::serialize(CustomerObject(customer)); }

std::string CompactJson(const model::Operation& op) {
  json::object o{{"op_id", op.op_id.ToHex()}, {"kind", m::ToString(op.kind)}, {"enqueued_at", op.enqueued_at_ms}};
  if (op.base_version != 0) o["base_version"] = op.base_version;
  if (!op.changed_fields.empty()) o["changed_fields"] = json::value_from(op.changed_fields);
  Text(o, "terminal", op.terminal_id);
  Text(o, "operator", op.operator_id);
  o["customer"] = CustomerObject(op.customer);
  if (!op.consents.empty()) {
    json::array consents;
    for (const auto& e : op.consents) {
      json::object entry{{"id", e.id.ToHex()}, {"channel", m::ToString(e.channel)}, {"contact", e.contact},
                         {"granted", e.granted}, {"at", e.at_ms}};
      Text(entry, "text_version", e.text_version);
      Text(entry, "terminal", e.terminal_id);
      Text(entry, "operator", e.operator_id);
      consents.push_back(std::move(entry));
    }
    o["consents"] = std::move(consents);
  }
  return json::serialize(o);
}

}  // namespace kassa::bench
