#pragma once

// The customer as kassa knows it on a terminal (SPEC "Customers").
//
// Plain values with no behaviour; validation and normalization live in
// validation.h, storage in kassa::storage, the wire form in kassa::proto_codec.
// Times are Unix milliseconds (UTC).

#include <cstdint>
#include <string>
#include <vector>

#include "kassa/model/ids.h"

namespace kassa::model {

enum class CustomerType : std::uint8_t { kPerson = 1, kOrganization = 2 };
enum class AddressPurpose : std::uint8_t { kHome = 1, kBusiness = 2, kOffice = 3, kPostBox = 4 };
enum class ReceiptPreference : std::uint8_t { kPrint = 1, kEmail = 2, kPrintAndEmail = 3, kNone = 4 };

// Marketing consent of one contact: the value and where it was captured.
struct Consent {
  bool granted = false;
  std::int64_t captured_at_ms = 0;
  std::string operator_id;  // who captured it
  std::string terminal_id;  // on which terminal
  std::string text_version;  // the consent text shown, e.g. "2026-11" ("" when none was shown)
  friend bool operator==(const Consent&, const Consent&) = default;
};

// A secondary email or phone with its own consent.
struct SecondaryContact {
  std::string value;  // email as entered (trimmed), or phone in E.164
  Consent consent;
  friend bool operator==(const SecondaryContact&, const SecondaryContact&) = default;
};

struct Address {
  AddressPurpose purpose = AddressPurpose::kHome;
  std::string street;
  std::string city;
  std::string postal_code;
  std::string region;
  std::string country;  // ISO 3166-1 alpha-2, upper case
  std::string contact_name;
  std::string contact_phone;  // E.164
  friend bool operator==(const Address&, const Address&) = default;
};

struct AttributeValue {
  std::string name;
  std::string value;
  friend bool operator==(const AttributeValue&, const AttributeValue&) = default;
};

struct Customer {
  LocalId id;             // terminal-generated, 128-bit; never shown to associates
  std::string account;    // headquarters account number; empty while pending
  CustomerType type = CustomerType::kPerson;
  std::string first_name;
  std::string last_name;
  std::string organization_name;
  std::string email;      // primary
  std::string phone;      // primary, E.164
  // The primary email's and phone's marketing consent (granted false and
  // unstamped while there is none, or no contact).
  Consent email_consent;
  Consent phone_consent;
  std::vector<SecondaryContact> secondary_emails;
  std::vector<SecondaryContact> secondary_phones;
  std::vector<Address> addresses;
  std::string customer_group;
  ReceiptPreference receipt_preference = ReceiptPreference::kPrint;
  std::string receipt_email;
  std::string currency;
  std::string language;
  std::vector<std::string> affiliations;
  std::vector<AttributeValue> attributes;
  std::vector<std::string> loyalty_cards;
  std::int64_t created_at_ms = 0;
  std::int64_t changed_at_ms = 0;
  std::uint32_t version = 0;  // 1 on creation, +1 on every accepted edit
  // Set by headquarters from the customer group of the store's default
  // customer (SPEC); never edited on a terminal.
  std::vector<AttributeValue> financial_dimensions;

  bool pending() const { return account.empty(); }
  friend bool operator==(const Customer&, const Customer&) = default;
};

// What associates see where the account number goes while a customer waits
// for headquarters.
inline constexpr const char* kPendingSyncText = "Pending sync";

// "First Last" for a person, the organization name otherwise.
std::string DisplayName(const Customer& c);

// The search tokens of a customer's names (text.h NameTokens): first name,
// last name, organization name, then the tokens of a CJK name written
// without a space (JoinedNameTokens of last and first name).
std::vector<std::string> CustomerNameTokens(const Customer& c);

const char* ToString(CustomerType t);            // "person" | "organization"
const char* ToString(AddressPurpose p);          // "home" | "business" | "office" | "post_box"
const char* ToString(ReceiptPreference r);       // "print" | "email" | "print_and_email" | "none"
bool ParseCustomerType(std::string_view s, CustomerType* out);
bool ParseAddressPurpose(std::string_view s, AddressPurpose* out);
bool ParseReceiptPreference(std::string_view s, ReceiptPreference* out);

// Default purpose of a new address (SPEC): Home for a person, Business for an
// organization.
AddressPurpose DefaultAddressPurpose(CustomerType t);

}  // namespace kassa::model
