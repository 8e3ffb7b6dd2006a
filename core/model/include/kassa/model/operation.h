#pragma once

// An operation a terminal owes headquarters: one outbox entry, and one
// element of an upload batch on the link.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"
#include "kassa/model/ids.h"

namespace kassa::model {

// Customer fields by their number on the wire (proto/kassa/link/v1/customer.proto;
// proto/codec static_asserts that they agree). An update lists the fields it
// changed so headquarters can merge concurrent edits field by field.
enum class CustomerField : std::uint32_t {
  kAccount = 2, kType = 3, kFirstName = 4, kLastName = 5, kOrganizationName = 6, kEmail = 7,
  kPhone = 8, kSecondaryEmails = 9, kSecondaryPhones = 10, kAddresses = 11, kCustomerGroup = 12,
  kReceiptPreference = 13, kReceiptEmail = 14, kCurrency = 15, kLanguage = 16, kAffiliations = 17,
  kAttributes = 18, kLoyaltyCards = 19,
};

// The fields whose values differ between `before` and `after` (stamps and
// version excluded), in field-number order.
std::vector<std::uint32_t> ChangedFields(const Customer& before, const Customer& after);

// The primary email's and phone's consents belong to kEmail and kPhone.
// Copies field number `field` (a CustomerField) of `from` into `to`.
// Returns false for the account (headquarters assigns it) and for numbers
// that are not an editable field.
bool CopyField(std::uint32_t field, const Customer& from, Customer& to);

// An update's Operation::base: `before`'s id and its values of `fields`.
Customer BaseOf(const Customer& before, const std::vector<std::uint32_t>& fields);

// Whether field number `field` holds the same value in `a` and `b`.
bool SameField(std::uint32_t field, const Customer& a, const Customer& b);

// The name of field number `field` as the API spells it ("phone",
// "addresses", ...; "" for a number that is not a field).
const char* FieldName(std::uint32_t field);

// Field number `field` of `c` as a person reads it: the value itself, a
// list's values joined by "; ", an address's parts by ", " ("" when empty).
// At most kMaxFieldTextBytes, cut at a character's boundary.
inline constexpr std::size_t kMaxFieldTextBytes = 1000;
std::string FieldText(std::uint32_t field, const Customer& c);

enum class OperationKind : std::uint8_t { kCreateCustomer = 1, kUpdateCustomer = 2, kBookEntry = 3, kTimelineEntry = 4 };
// "create_customer" | "update_customer" | "book_entry" | "timeline_entry"
const char* ToString(OperationKind k);

struct Operation {
  LocalId op_id;                // unique forever: headquarters applies each id once
  OperationKind kind = OperationKind::kCreateCustomer;
  std::int64_t enqueued_at_ms = 0;
  // The customer as it is after the operation; clienteling operations carry
  // only the id (and account) of the customer they concern.
  Customer customer;
  std::uint32_t base_version = 0;             // updates: the version the edit started from
  std::vector<std::uint32_t> changed_fields;  // updates: Customer field numbers on the wire
  // Updates: the changed fields as the edit found them (every other field
  // empty), so that headquarters can tell a field changed elsewhere since
  // base_version (a conflict) from one only this edit changed. Absent from
  // terminals before it was added: headquarters then merges without telling.
  std::optional<Customer> base;
  std::string terminal_id;
  std::string operator_id;
  std::optional<BookEntry> book_entry;          // kBookEntry
  std::optional<TimelineEntry> timeline_entry;  // kTimelineEntry
  // Creates and updates: the consent ledger entries the change makes
  // (ConsentChanges), applied at headquarters with it or not at all.
  std::vector<ConsentEntry> consents;
  bool clienteling() const { return kind == OperationKind::kBookEntry || kind == OperationKind::kTimelineEntry; }
  friend bool operator==(const Operation&, const Operation&) = default;
};

}  // namespace kassa::model
