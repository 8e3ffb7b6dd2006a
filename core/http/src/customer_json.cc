#include "kassa/http/customer_json.h"

#include <boost/json.hpp>

#include "kassa/base/time_format.h"

namespace kassa::http {
namespace json = boost::json;
namespace m = kassa::model;

std::string IsoTime(std::int64_t unix_ms) { return unix_ms <= 0 ? std::string() : FormatIsoTime(unix_ms); }

boost::json::object TimelineJson(const model::TimelineEntry& e) {
  boost::json::object o{{"id", e.id.ToHex()}, {"kind", model::ToString(e.kind)}, {"at", IsoTime(e.at_ms)},
                        {"worker_id", e.worker_id}, {"text", e.text}};
  if (e.kind == model::TimelineKind::kActivity) o["activity_type"] = e.activity_type;
  if (e.kind == model::TimelineKind::kConflict) o["field"] = e.activity_type;  // text: the value that lost
  return o;
}

boost::json::object ConsentJson(const model::ConsentEntry& e) {
  return boost::json::object{{"seq", e.seq == 0 ? json::value(nullptr) : json::value(e.seq)},
                             {"channel", model::ToString(e.channel)},
                             {"contact", e.contact},
                             {"granted", e.granted},
                             {"text_version", e.text_version},
                             {"at", IsoTime(e.at_ms)},
                             {"terminal_id", e.terminal_id},
                             {"operator_id", e.operator_id}};
}

namespace {

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object ConsentObject(const m::Consent& c) {
  return json::object{{"granted", c.granted},
                      {"captured_at", IsoTime(c.captured_at_ms)},
                      {"operator", c.operator_id},
                      {"terminal", c.terminal_id},
                      {"text_version", c.text_version}};
}

json::array Contacts(const std::vector<m::SecondaryContact>& v) {
  json::array a;
  for (const auto& c : v) a.push_back(json::object{{"value", c.value}, {"consent", ConsentObject(c.consent)}});
  return a;
}

}  // namespace

json::object CustomerJson(const m::Customer& c) {
  json::array addresses;
  for (const auto& a : c.addresses) {
    addresses.push_back(json::object{{"purpose", m::ToString(a.purpose)}, {"street", a.street},
                                     {"city", a.city}, {"postal_code", a.postal_code}, {"region", a.region},
                                     {"country", a.country}, {"contact_name", a.contact_name},
                                     {"contact_phone", a.contact_phone}});
  }
  json::array attributes;
  for (const auto& a : c.attributes) attributes.push_back(json::object{{"name", a.name}, {"value", a.value}});
  json::object dimensions;
  for (const auto& d : c.financial_dimensions) dimensions[d.name] = d.value;
  return json::object{
      {"id", c.id.ToHex()},
      {"account", c.pending() ? std::string(m::kPendingSyncText) : c.account},
      {"pending", c.pending()},
      {"type", m::ToString(c.type)},
      {"name", m::DisplayName(c)},
      {"first_name", c.first_name},
      {"last_name", c.last_name},
      {"organization_name", c.organization_name},
      {"email", c.email},
      {"email_consent", ConsentObject(c.email_consent)},
      {"phone", c.phone},
      {"phone_consent", ConsentObject(c.phone_consent)},
      {"secondary_emails", Contacts(c.secondary_emails)},
      {"secondary_phones", Contacts(c.secondary_phones)},
      {"addresses", std::move(addresses)},
      {"customer_group", c.customer_group},
      {"receipt_preference", m::ToString(c.receipt_preference)},
      {"receipt_email", c.receipt_email},
      {"currency", c.currency},
      {"language", c.language},
      {"affiliations", Strings(c.affiliations)},
      {"attributes", std::move(attributes)},
      {"loyalty_cards", Strings(c.loyalty_cards)},
      {"financial_dimensions", std::move(dimensions)},
      {"created_at", IsoTime(c.created_at_ms)},
      {"changed_at", IsoTime(c.changed_at_ms)},
      {"version", c.version},
  };
}

}  // namespace kassa::http
