#pragma once

// The store's configuration as a terminal uses it: who the store is, its
// default customer, its customer groups and how customers are created.
// Loaded from a config file today; headquarters distributes it later.

#include <string>
#include <vector>

#include "kassa/model/customer.h"

namespace kassa::model {

enum class CreationMode : std::uint8_t { kSync = 1, kAsync = 2 };
const char* ToString(CreationMode m);  // "sync" | "async"
bool ParseCreationMode(std::string_view s, CreationMode* out);

struct CustomerGroup {
  std::string id;
  std::string name;
  friend bool operator==(const CustomerGroup&, const CustomerGroup&) = default;
};

// What a new customer inherits (SPEC): type, customer group, receipt
// preference, currency, language, affiliations; the receipt email only when
// the new customer gives none.
struct DefaultCustomer {
  std::string account;
  CustomerType type = CustomerType::kPerson;
  std::string customer_group;
  ReceiptPreference receipt_preference = ReceiptPreference::kPrint;
  std::string receipt_email;
  std::string currency;
  std::string language;
  std::vector<std::string> affiliations;
  friend bool operator==(const DefaultCustomer&, const DefaultCustomer&) = default;
};

struct StoreConfig {
  std::string store_id;
  std::string legal_entity;
  std::string operating_unit_country;  // ISO alpha-2; default country of new addresses
  DefaultCustomer default_customer;
  std::vector<CustomerGroup> customer_groups;
  CreationMode creation_mode = CreationMode::kSync;
  bool allow_offline_creation = true;
  // Days without reaching headquarters after which the terminal locks its
  // customer data (outbox kept); 0: never. At most kMaxLockAfterOfflineDays.
  std::uint32_t lock_after_offline_days = 0;
  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

// Returns: kOk, or kInvalidArgument naming the first wrong field (missing
// store id, unknown country, default customer in an unknown group, ...).
Status ValidateStoreConfig(const StoreConfig& config);

bool HasCustomerGroup(const StoreConfig& config, std::string_view group_id);

// What is valid but almost certainly a mistake in `config`, one sentence each
// naming the member and saying why (kassad and kassa-hq log these and show
// them in their status). Today: a default customer with a receipt email,
// which every new customer who gives none inherits (SPEC "Every store has a
// default customer"), so strangers' receipts all go to one address.
std::vector<std::string> StoreConfigWarnings(const StoreConfig& config);

}  // namespace kassa::model
