#pragma once

// CustomerService: what a store associate does with customers on the
// terminal: create, edit, find and search, on the local store, offline.
//
// Creating applies the store's rules (SPEC "Customers"): the default
// customer's type, group, receipt preference, currency, language and
// affiliations; its receipt email only when the new customer gives none; the
// address purpose default (Home for a person, Business for an organization)
// and the operating unit's country. With no headquarters link every new
// customer is created async: a fresh 128-bit id, no account number
// ("Pending sync"), and its creation queued in the outbox in the same
// transaction. Edits queue behind it.
//
// Threading: not thread-safe; call from the service's io_context thread.

#include <optional>
#include <string>
#include <vector>

#include "kassa/hal/clock.h"
#include "kassa/model/customer.h"
#include "kassa/model/store_config.h"
#include "kassa/storage/customer_store.h"

namespace kassa::customers {

// A secondary email or phone as entered; consent is stamped with the time,
// the operator and this terminal when it is captured or changed.
struct ContactInput {
  std::string value;
  bool consent = false;
};

// An address as entered; purpose and country fall back to the defaults.
struct AddressInput {
  std::optional<model::AddressPurpose> purpose;
  std::string street;
  std::string city;
  std::string postal_code;
  std::string region;
  std::optional<std::string> country;
  std::string contact_name;
  std::string contact_phone;
};

// The fields a create or an edit sets. Unset fields keep their current (edit)
// or default (create) value; a set list replaces the whole list.
struct CustomerPatch {
  std::optional<model::CustomerType> type;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> organization_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::vector<ContactInput>> secondary_emails;
  std::optional<std::vector<ContactInput>> secondary_phones;
  std::optional<std::vector<AddressInput>> addresses;
  std::optional<std::string> customer_group;
  std::optional<model::ReceiptPreference> receipt_preference;
  std::optional<std::string> receipt_email;
  std::optional<std::string> currency;
  std::optional<std::string> language;
  std::optional<std::vector<std::string>> affiliations;
  std::optional<std::vector<model::AttributeValue>> attributes;
  std::optional<std::vector<std::string>> loyalty_cards;
};

struct SearchResult {
  model::Customer customer;
  storage::MatchedField matched;  // the field that made it a result
  int score = 0;                  // higher ranks first
};

class CustomerService {
 public:
  static constexpr std::size_t kDefaultSearchLimit = 20;
  static constexpr std::size_t kMaxSearchLimit = 100;

  // REQUIRES: `config` is valid (model::ValidateStoreConfig); `store` and
  // `clock` outlive the service.
  CustomerService(storage::CustomerStore& store, hal::Clock& clock, std::string terminal_id,
                  model::StoreConfig config);

  // Returns:
  //   kOk                  the stored customer (version 1, pending).
  //   kInvalidArgument     "field: ..." bad input; nothing was stored.
  //   kAlreadyExists       "loyalty_cards: ..." a card belongs to another customer.
  //   kFailedPrecondition  "creation: ..." the store forbids creating
  //                        customers while headquarters is unreachable.
  //   kResourceExhausted   storage full; nothing was stored.
  Result<model::Customer> Create(const CustomerPatch& patch, const std::string& operator_id);

  // Applies `patch` to the customer `ref` (account number or local id) when
  // its stored version is still `expected_version`.
  //
  // Returns:
  //   kOk                 the customer after the edit (unchanged, same version,
  //                       when the patch changes nothing).
  //   kNotFound           no such customer.
  //   kAborted            "version: ..." someone else saved first.
  //   kInvalidArgument    "field: ..." bad input; nothing was stored.
  //   kAlreadyExists      a loyalty card belongs to another customer.
  //   kResourceExhausted  storage full.
  Result<model::Customer> Edit(std::string_view ref, const CustomerPatch& patch,
                               std::uint32_t expected_version, const std::string& operator_id);

  // Returns: kOk; kNotFound "customer: ..." when `ref` is neither a stored
  // account number nor a stored local id.
  Result<model::Customer> Find(std::string_view ref);

  // Finds customers by name tokens in any order and by prefix (accents and
  // case folded), phone in any formatting or by prefix of the national
  // number, email (case folded, by prefix), account number or loyalty card.
  // Ranked best first, at most `limit` (1..kMaxSearchLimit).
  //
  // Returns: kOk (possibly empty); kInvalidArgument "q: ..." for an empty
  // query or "limit: ..." out of range.
  Result<std::vector<SearchResult>> Search(std::string_view query, std::size_t limit);

  const model::StoreConfig& store_config() const { return config_; }
  const std::string& terminal_id() const { return terminal_id_; }

 private:
  Status ApplyPatch(const CustomerPatch& patch, const model::Customer* before,
                    const std::string& operator_id, std::int64_t now_ms, model::Customer& c) const;

  storage::CustomerStore& store_;
  hal::Clock& clock_;
  const std::string terminal_id_;
  const model::StoreConfig config_;
};

}  // namespace kassa::customers
