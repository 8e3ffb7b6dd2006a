#include "kassa/model/customer.h"

#include "kassa/model/store_config.h"
#include "kassa/model/text.h"

namespace kassa::model {

std::string DisplayName(const Customer& c) {
  if (c.type == CustomerType::kOrganization) return c.organization_name;
  if (c.first_name.empty()) return c.last_name;
  if (c.last_name.empty()) return c.first_name;
  return c.first_name + " " + c.last_name;
}

std::vector<std::string> CustomerNameTokens(const Customer& c) {
  std::vector<std::string> tokens;
  for (const std::string* text : {&c.first_name, &c.last_name, &c.organization_name}) {
    for (auto& t : NameTokens(*text)) tokens.push_back(std::move(t));
  }
  for (auto& t : JoinedNameTokens(c.last_name, c.first_name)) tokens.push_back(std::move(t));
  return tokens;
}

const char* ToString(CustomerType t) {
  return t == CustomerType::kOrganization ? "organization" : "person";
}

const char* ToString(AddressPurpose p) {
  switch (p) {
    case AddressPurpose::kHome: return "home";
    case AddressPurpose::kBusiness: return "business";
    case AddressPurpose::kOffice: return "office";
    case AddressPurpose::kPostBox: return "post_box";
  }
  return "home";
}

const char* ToString(ReceiptPreference r) {
  switch (r) {
    case ReceiptPreference::kPrint: return "print";
    case ReceiptPreference::kEmail: return "email";
    case ReceiptPreference::kPrintAndEmail: return "print_and_email";
    case ReceiptPreference::kNone: return "none";
  }
  return "print";
}

const char* ToString(CreationMode m) { return m == CreationMode::kAsync ? "async" : "sync"; }

bool ParseCustomerType(std::string_view s, CustomerType* out) {
  if (s == "person") *out = CustomerType::kPerson;
  else if (s == "organization") *out = CustomerType::kOrganization;
  else return false;
  return true;
}

bool ParseAddressPurpose(std::string_view s, AddressPurpose* out) {
  if (s == "home") *out = AddressPurpose::kHome;
  else if (s == "business") *out = AddressPurpose::kBusiness;
  else if (s == "office") *out = AddressPurpose::kOffice;
  else if (s == "post_box") *out = AddressPurpose::kPostBox;
  else return false;
  return true;
}

bool ParseReceiptPreference(std::string_view s, ReceiptPreference* out) {
  if (s == "print") *out = ReceiptPreference::kPrint;
  else if (s == "email") *out = ReceiptPreference::kEmail;
  else if (s == "print_and_email") *out = ReceiptPreference::kPrintAndEmail;
  else if (s == "none") *out = ReceiptPreference::kNone;
  else return false;
  return true;
}

bool ParseCreationMode(std::string_view s, CreationMode* out) {
  if (s == "sync") *out = CreationMode::kSync;
  else if (s == "async") *out = CreationMode::kAsync;
  else return false;
  return true;
}

AddressPurpose DefaultAddressPurpose(CustomerType t) {
  return t == CustomerType::kOrganization ? AddressPurpose::kBusiness : AddressPurpose::kHome;
}

}  // namespace kassa::model

#include "kassa/model/operation.h"

namespace kassa::model {
std::vector<std::uint32_t> ChangedFields(const Customer& a, const Customer& b) {
  std::vector<std::uint32_t> out;
  const auto check = [&](bool differs, CustomerField f) {
    if (differs) out.push_back(static_cast<std::uint32_t>(f));
  };
  check(a.account != b.account, CustomerField::kAccount);
  check(a.type != b.type, CustomerField::kType);
  check(a.first_name != b.first_name, CustomerField::kFirstName);
  check(a.last_name != b.last_name, CustomerField::kLastName);
  check(a.organization_name != b.organization_name, CustomerField::kOrganizationName);
  // A primary contact's consent travels with it: one field on the wire.
  check(a.email != b.email || a.email_consent != b.email_consent, CustomerField::kEmail);
  check(a.phone != b.phone || a.phone_consent != b.phone_consent, CustomerField::kPhone);
  check(a.secondary_emails != b.secondary_emails, CustomerField::kSecondaryEmails);
  check(a.secondary_phones != b.secondary_phones, CustomerField::kSecondaryPhones);
  check(a.addresses != b.addresses, CustomerField::kAddresses);
  check(a.customer_group != b.customer_group, CustomerField::kCustomerGroup);
  check(a.receipt_preference != b.receipt_preference, CustomerField::kReceiptPreference);
  check(a.receipt_email != b.receipt_email, CustomerField::kReceiptEmail);
  check(a.currency != b.currency, CustomerField::kCurrency);
  check(a.language != b.language, CustomerField::kLanguage);
  check(a.affiliations != b.affiliations, CustomerField::kAffiliations);
  check(a.attributes != b.attributes, CustomerField::kAttributes);
  check(a.loyalty_cards != b.loyalty_cards, CustomerField::kLoyaltyCards);
  return out;
}

bool CopyField(std::uint32_t field, const Customer& from, Customer& to) {
  switch (static_cast<CustomerField>(field)) {
    case CustomerField::kAccount: return false;  // headquarters' own
    case CustomerField::kType: to.type = from.type; return true;
    case CustomerField::kFirstName: to.first_name = from.first_name; return true;
    case CustomerField::kLastName: to.last_name = from.last_name; return true;
    case CustomerField::kOrganizationName: to.organization_name = from.organization_name; return true;
    case CustomerField::kEmail:
      to.email = from.email;
      to.email_consent = from.email_consent;
      return true;
    case CustomerField::kPhone:
      to.phone = from.phone;
      to.phone_consent = from.phone_consent;
      return true;
    case CustomerField::kSecondaryEmails: to.secondary_emails = from.secondary_emails; return true;
    case CustomerField::kSecondaryPhones: to.secondary_phones = from.secondary_phones; return true;
    case CustomerField::kAddresses: to.addresses = from.addresses; return true;
    case CustomerField::kCustomerGroup: to.customer_group = from.customer_group; return true;
    case CustomerField::kReceiptPreference: to.receipt_preference = from.receipt_preference; return true;
    case CustomerField::kReceiptEmail: to.receipt_email = from.receipt_email; return true;
    case CustomerField::kCurrency: to.currency = from.currency; return true;
    case CustomerField::kLanguage: to.language = from.language; return true;
    case CustomerField::kAffiliations: to.affiliations = from.affiliations; return true;
    case CustomerField::kAttributes: to.attributes = from.attributes; return true;
    case CustomerField::kLoyaltyCards: to.loyalty_cards = from.loyalty_cards; return true;
  }
  return false;
}

Customer BaseOf(const Customer& before, const std::vector<std::uint32_t>& fields) {
  Customer base;
  base.id = before.id;
  for (const std::uint32_t field : fields) CopyField(field, before, base);
  return base;
}

bool SameField(std::uint32_t field, const Customer& a, const Customer& b) {
  Customer left, right;
  if (!CopyField(field, a, left) || !CopyField(field, b, right)) return true;
  return left == right;
}

const char* FieldName(std::uint32_t field) {
  switch (static_cast<CustomerField>(field)) {
    case CustomerField::kAccount: return "account";
    case CustomerField::kType: return "type";
    case CustomerField::kFirstName: return "first_name";
    case CustomerField::kLastName: return "last_name";
    case CustomerField::kOrganizationName: return "organization_name";
    case CustomerField::kEmail: return "email";
    case CustomerField::kPhone: return "phone";
    case CustomerField::kSecondaryEmails: return "secondary_emails";
    case CustomerField::kSecondaryPhones: return "secondary_phones";
    case CustomerField::kAddresses: return "addresses";
    case CustomerField::kCustomerGroup: return "customer_group";
    case CustomerField::kReceiptPreference: return "receipt_preference";
    case CustomerField::kReceiptEmail: return "receipt_email";
    case CustomerField::kCurrency: return "currency";
    case CustomerField::kLanguage: return "language";
    case CustomerField::kAffiliations: return "affiliations";
    case CustomerField::kAttributes: return "attributes";
    case CustomerField::kLoyaltyCards: return "loyalty_cards";
  }
  return "";
}

namespace {

// `parts` that are not empty, joined by `separator`.
std::string Joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

template <typename List, typename Text>
std::vector<std::string> Each(const List& list, Text text) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(text(item));
  return out;
}

}  // namespace

std::string FieldText(std::uint32_t field, const Customer& c) {
  const auto value = [](const SecondaryContact& s) { return s.value; };
  std::string text;
  switch (static_cast<CustomerField>(field)) {
    case CustomerField::kAccount: text = c.account; break;
    case CustomerField::kType: text = ToString(c.type); break;
    case CustomerField::kFirstName: text = c.first_name; break;
    case CustomerField::kLastName: text = c.last_name; break;
    case CustomerField::kOrganizationName: text = c.organization_name; break;
    case CustomerField::kEmail: text = c.email; break;
    case CustomerField::kPhone: text = c.phone; break;
    case CustomerField::kSecondaryEmails: text = Joined(Each(c.secondary_emails, value), "; "); break;
    case CustomerField::kSecondaryPhones: text = Joined(Each(c.secondary_phones, value), "; "); break;
    case CustomerField::kAddresses:
      text = Joined(Each(c.addresses, [](const Address& a) {
                      return Joined({a.street, a.postal_code, a.city, a.region, a.country, a.contact_name, a.contact_phone},
                                    ", ");
                    }),
                    "; ");
      break;
    case CustomerField::kCustomerGroup: text = c.customer_group; break;
    case CustomerField::kReceiptPreference: text = ToString(c.receipt_preference); break;
    case CustomerField::kReceiptEmail: text = c.receipt_email; break;
    case CustomerField::kCurrency: text = c.currency; break;
    case CustomerField::kLanguage: text = c.language; break;
    case CustomerField::kAffiliations: text = Joined(c.affiliations, "; "); break;
    case CustomerField::kAttributes:
      text = Joined(Each(c.attributes, [](const AttributeValue& a) { return a.name + ": " + a.value; }), "; ");
      break;
    case CustomerField::kLoyaltyCards: text = Joined(c.loyalty_cards, "; "); break;
  }
  if (text.size() > kMaxFieldTextBytes) {
    std::size_t cut = kMaxFieldTextBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    text.resize(cut);
  }
  return text;
}

const char* ToString(OperationKind k) {
  switch (k) {
    case OperationKind::kCreateCustomer: return "create_customer";
    case OperationKind::kUpdateCustomer: return "update_customer";
    case OperationKind::kBookEntry: return "book_entry";
    case OperationKind::kTimelineEntry: return "timeline_entry";
  }
  return "create_customer";
}
}  // namespace kassa::model
