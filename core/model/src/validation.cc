#include "kassa/model/validation.h"

#include <algorithm>
#include <set>

#include "kassa/model/email.h"
#include "kassa/model/limits.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"

namespace kassa::model {
namespace {

constexpr Status Invalid(const char* detail) { return Status(StatusCode::kInvalidArgument, detail); }

// Checks one text field: clean UTF-8, within `max` bytes. The two statuses
// carry the field's name (details must be static strings).
Status CheckText(std::string_view v, std::size_t max, Status too_long, Status not_text) {
  if (v.size() > max) return too_long;
  if (!IsCleanUtf8(v)) return not_text;
  return Status::Ok();
}

bool IsUpperAlpha(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool IsLanguageTag(std::string_view s) {
  if (s.empty() || s.size() > kMaxLanguageBytes || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsCardNumber(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

void TrimInPlace(std::string& s) { s = std::string(Trim(s)); }

void UpperInPlace(std::string& s) { s = AsciiUpper(s); }

// `bad` and `bad_international` name the field the phone came from; the
// second is for a number dialled with + or 00, whose country is its own.
Status NormalizePhoneField(std::string& value, std::string_view country, Status bad, Status bad_international) {
  if (value.empty()) return Status::Ok();
  if (value.size() > 64) return bad;  // generous for formatting; E.164 bound checked after
  auto phone = NormalizePhone(value, country);
  if (!phone.ok()) return LooksInternational(value) ? bad_international : bad;
  value = phone->e164;
  return Status::Ok();
}

Status CheckConsent(const Consent& consent) {
  KASSA_TRY(CheckText(consent.operator_id, kMaxOperatorIdBytes,
                      Invalid("consent.operator: longer than 32 bytes"),
                      Invalid("consent.operator: not valid text")));
  KASSA_TRY(CheckText(consent.terminal_id, kMaxTerminalIdBytes,
                      Invalid("consent.terminal: longer than 32 bytes"),
                      Invalid("consent.terminal: not valid text")));
  return CheckText(consent.text_version, kMaxConsentTextVersionBytes,
                   Invalid("consent.text_version: longer than 32 bytes"),
                   Invalid("consent.text_version: not valid text"));
}

}  // namespace

Status NormalizeCustomer(Customer& c, const StoreConfig& store) {
  for (std::string* s : {&c.first_name, &c.last_name, &c.organization_name, &c.email, &c.phone,
                         &c.customer_group, &c.receipt_email, &c.currency, &c.language}) {
    TrimInPlace(*s);
  }
  UpperInPlace(c.currency);
  const std::string& country = store.operating_unit_country;
  KASSA_TRY(NormalizePhoneField(c.phone, country, Invalid("phone: not a valid phone number for the store's country (give + and country code for another country)"),
                                Invalid("phone: not a valid international number (check the country code and the number of digits)")));
  for (auto& e : c.secondary_emails) TrimInPlace(e.value);
  for (auto& p : c.secondary_phones) {
    TrimInPlace(p.value);
    KASSA_TRY(NormalizePhoneField(p.value, country, Invalid("secondary_phones: not a valid phone number for the store's country (give + and country code for another country)"),
                                  Invalid("secondary_phones: not a valid international number (check the country code and the number of digits)")));
  }
  for (auto& a : c.addresses) {
    for (std::string* s : {&a.street, &a.city, &a.postal_code, &a.region, &a.country,
                           &a.contact_name, &a.contact_phone}) {
      TrimInPlace(*s);
    }
    UpperInPlace(a.country);
    // A contact phone is dialled in the address's own country.
    const std::string& phone_country = a.country.empty() ? country : a.country;
    KASSA_TRY(NormalizePhoneField(a.contact_phone, phone_country, Invalid("addresses.contact_phone: not a valid phone number for the address's country"),
                                  Invalid("addresses.contact_phone: not a valid international number (check the country code and the number of digits)")));
  }
  for (auto& f : c.affiliations) TrimInPlace(f);
  for (auto& a : c.attributes) {
    TrimInPlace(a.name);
    TrimInPlace(a.value);
  }
  for (auto& card : c.loyalty_cards) {
    // Cards are typed with spaces or scanned without: keep the bare number.
    std::erase_if(card, [](char ch) { return ch == ' ' || ch == '\t'; });
    UpperInPlace(card);
  }
  return ValidateCustomer(c, store);
}

Status ValidateCustomer(const Customer& c, const StoreConfig& store) {
  if (c.type != CustomerType::kPerson && c.type != CustomerType::kOrganization) {
    return Invalid("type: must be person or organization");
  }
  KASSA_TRY(CheckText(c.first_name, kMaxPersonNameBytes, Invalid("first_name: longer than 64 bytes"), Invalid("first_name: not valid text")));
  KASSA_TRY(CheckText(c.last_name, kMaxPersonNameBytes, Invalid("last_name: longer than 64 bytes"), Invalid("last_name: not valid text")));
  KASSA_TRY(CheckText(c.organization_name, kMaxOrgNameBytes, Invalid("organization_name: longer than 100 bytes"), Invalid("organization_name: not valid text")));
  if (c.type == CustomerType::kPerson) {
    if (c.first_name.empty() && c.last_name.empty()) return Invalid("name: a person needs a first or last name");
    if (!c.organization_name.empty()) return Invalid("organization_name: only an organization has one (set type to organization)");
  } else {
    if (c.organization_name.empty()) return Invalid("organization_name: an organization needs a name");
    if (!c.first_name.empty() || !c.last_name.empty()) return Invalid("first_name: an organization has no first or last name");
  }
  if (c.email.size() > kMaxEmailBytes) return Invalid("email: longer than 254 bytes");
  if (!c.email.empty() && !IsValidEmail(c.email)) return Invalid("email: not an email address");
  if (c.phone.size() > kMaxPhoneBytes) return Invalid("phone: longer than 16 bytes");
  // A primary contact's consent needs the contact: one consent per address.
  if (c.email.empty() && c.email_consent.granted) return Invalid("email_consent: there is no email to consent for");
  if (c.phone.empty() && c.phone_consent.granted) return Invalid("phone_consent: there is no phone to consent for");
  KASSA_TRY(CheckConsent(c.email_consent));
  KASSA_TRY(CheckConsent(c.phone_consent));

  if (c.secondary_emails.size() > kMaxSecondaryContacts) return Invalid("secondary_emails: more than 5");
  std::set<std::string> seen;
  if (!c.email.empty()) seen.insert(FoldEmail(c.email));
  for (const auto& e : c.secondary_emails) {
    if (e.value.size() > kMaxEmailBytes) return Invalid("secondary_emails: longer than 254 bytes");
    if (!IsValidEmail(e.value)) return Invalid("secondary_emails: not an email address");
    if (!seen.insert(FoldEmail(e.value)).second) return Invalid("secondary_emails: listed twice, or the primary email again");
    KASSA_TRY(CheckConsent(e.consent));
  }
  if (c.secondary_phones.size() > kMaxSecondaryContacts) return Invalid("secondary_phones: more than 5");
  seen.clear();
  if (!c.phone.empty()) seen.insert(c.phone);
  for (const auto& p : c.secondary_phones) {
    if (p.value.size() > kMaxPhoneBytes || p.value.empty() || p.value[0] != '+') {
      return Invalid("secondary_phones: not a phone number");
    }
    if (!seen.insert(p.value).second) return Invalid("secondary_phones: listed twice, or the primary phone again");
    KASSA_TRY(CheckConsent(p.consent));
  }

  if (c.addresses.size() > kMaxAddresses) return Invalid("addresses: more than 5");
  for (const auto& a : c.addresses) {
    if (a.purpose < AddressPurpose::kHome || a.purpose > AddressPurpose::kPostBox) {
      return Invalid("addresses.purpose: must be home, business, office or post_box");
    }
    KASSA_TRY(CheckText(a.street, kMaxStreetBytes, Invalid("addresses.street: longer than 100 bytes"), Invalid("addresses.street: not valid text")));
    KASSA_TRY(CheckText(a.city, kMaxCityBytes, Invalid("addresses.city: longer than 60 bytes"), Invalid("addresses.city: not valid text")));
    KASSA_TRY(CheckText(a.postal_code, kMaxPostalCodeBytes, Invalid("addresses.postal_code: longer than 16 bytes"), Invalid("addresses.postal_code: not valid text")));
    KASSA_TRY(CheckText(a.region, kMaxRegionBytes, Invalid("addresses.region: longer than 60 bytes"), Invalid("addresses.region: not valid text")));
    KASSA_TRY(CheckText(a.contact_name, kMaxContactNameBytes, Invalid("addresses.contact_name: longer than 100 bytes"), Invalid("addresses.contact_name: not valid text")));
    if (!IsUpperAlpha(a.country, kMaxCountryBytes)) return Invalid("addresses.country: not a two-letter ISO country code");
    if (a.street.empty() && a.city.empty() && a.postal_code.empty()) {
      return Invalid("addresses: an address needs a street, city or postal code");
    }
    if (a.contact_phone.size() > kMaxPhoneBytes) return Invalid("addresses.contact_phone: longer than 16 bytes");
  }

  if (c.customer_group.empty()) return Invalid("customer_group: required (the store's default customer has none)");
  if (c.customer_group.size() > kMaxGroupIdBytes || !HasCustomerGroup(store, c.customer_group)) {
    return Invalid("customer_group: unknown customer group");
  }
  if (c.receipt_preference < ReceiptPreference::kPrint || c.receipt_preference > ReceiptPreference::kNone) {
    return Invalid("receipt_preference: must be print, email, print_and_email or none");
  }
  if (c.receipt_email.size() > kMaxEmailBytes) return Invalid("receipt_email: longer than 254 bytes");
  if (!c.receipt_email.empty() && !IsValidEmail(c.receipt_email)) return Invalid("receipt_email: not an email address");
  const bool emailed = c.receipt_preference == ReceiptPreference::kEmail ||
                       c.receipt_preference == ReceiptPreference::kPrintAndEmail;
  if (emailed && c.receipt_email.empty() && c.email.empty()) {
    return Invalid("receipt_email: needed when receipts are emailed and there is no primary email");
  }
  if (!c.currency.empty() && !IsUpperAlpha(c.currency, kMaxCurrencyBytes)) return Invalid("currency: not a three-letter ISO 4217 code");
  if (!c.language.empty() && !IsLanguageTag(c.language)) return Invalid("language: not a language tag such as en-GB (at most 12 characters)");

  if (c.affiliations.size() > kMaxAffiliations) return Invalid("affiliations: more than 8");
  seen.clear();
  for (const auto& f : c.affiliations) {
    KASSA_TRY(CheckText(f, kMaxAffiliationBytes, Invalid("affiliations: longer than 32 bytes"), Invalid("affiliations: not valid text")));
    if (f.empty()) return Invalid("affiliations: empty name");
    if (!seen.insert(f).second) return Invalid("affiliations: listed twice");
  }
  if (c.attributes.size() > kMaxAttributes) return Invalid("attributes: more than 16");
  seen.clear();
  for (const auto& a : c.attributes) {
    KASSA_TRY(CheckText(a.name, kMaxAttributeNameBytes, Invalid("attributes.name: longer than 32 bytes"), Invalid("attributes.name: not valid text")));
    KASSA_TRY(CheckText(a.value, kMaxAttributeValueBytes, Invalid("attributes.value: longer than 100 bytes"), Invalid("attributes.value: not valid text")));
    if (a.name.empty()) return Invalid("attributes.name: empty");
    if (!seen.insert(a.name).second) return Invalid("attributes.name: listed twice");
  }
  if (c.loyalty_cards.size() > kMaxLoyaltyCards) return Invalid("loyalty_cards: more than 4");
  seen.clear();
  for (const auto& card : c.loyalty_cards) {
    if (card.size() > kMaxLoyaltyCardBytes) return Invalid("loyalty_cards: longer than 32 characters");
    if (!IsCardNumber(card)) return Invalid("loyalty_cards: only letters, digits and -");
    if (!seen.insert(card).second) return Invalid("loyalty_cards: listed twice");
  }
  if (c.account.size() > kMaxAccountBytes) return Invalid("account: longer than 20 bytes");
  return Status::Ok();
}

}  // namespace kassa::model
