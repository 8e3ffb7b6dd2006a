#pragma once

// CustomerService: what a store associate does with customers on the
// terminal: create, edit, find and search, on the local store, offline.
//
// Creating applies the store's rules (SPEC "Customers"): the default
// customer's type, group, receipt preference, currency, language and
// affiliations; its receipt email only when the new customer gives none; the
// address purpose default (Home for a person, Business for an organization)
// and the operating unit's country.
//
// Creation modes (SPEC "Creating customers"): in sync mode with headquarters
// online, CreateAsync asks headquarters to create the customer at once and
// stores it with its account number. In async mode, or when headquarters is
// offline or does not answer within its deadline, the customer is stored
// under a fresh 128-bit id with no account number ("Pending sync") and its
// creation queued in the outbox in the same transaction, with the same
// operation id a timed-out real-time call used, so headquarters creates it
// once. A store that forbids offline creation gets a clear refusal instead.
// Edits queue in the outbox behind the creation and stream at once.
//
// Threading: not thread-safe; call from the service's io_context thread.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kassa/customers/access.h"
#include "kassa/customers/headquarters.h"
#include "kassa/base/clock.h"
#include "kassa/model/customer.h"
#include "kassa/model/store_config.h"
#include "kassa/search/customer_search.h"
#include "kassa/search/duplicates.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::customers {

// A secondary email or phone as entered; consent is stamped with the time,
// the operator and this terminal when it is captured or changed.
struct ContactInput {
  std::string value;
  bool consent = false;
  std::string consent_text_version;  // the consent text the customer was shown ("" when none)
};

// The primary email's or phone's consent as entered; stamped like a
// secondary contact's.
struct ConsentInput {
  bool granted = false;
  std::string text_version;  // the consent text the customer was shown ("" when none)
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
  // Unset on an edit: kept while the contact stays the same, none once it
  // changes (a consent belongs to the address or number it was given for).
  std::optional<ConsentInput> email_consent;
  std::optional<ConsentInput> phone_consent;
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

using search::SearchResult;

class CustomerService {
 public:
  static constexpr std::size_t kDefaultSearchLimit = search::kDefaultSearchLimit;
  static constexpr std::size_t kMaxSearchLimit = search::kMaxSearchLimit;
  using CustomerCallback = std::function<void(Result<model::Customer>)>;

  // REQUIRES: `config` is valid (model::ValidateStoreConfig); `store` and
  // `clock` outlive the service.
  CustomerService(storage::CustomerTable& store, Clock& clock, std::string terminal_id,
                  model::StoreConfig config);

  // Creates a customer by the store's creation mode (see above). `done`
  // runs once, maybe before CreateAsync returns, with:
  //   kOk                  the stored customer (version 1; with its account
  //                        number when headquarters created it, else pending).
  //   kInvalidArgument     "field: ..." bad input; nothing was stored.
  //   kAlreadyExists       "loyalty_cards: ..." a card belongs to another customer.
  //   kUnavailable         "creation: ..." headquarters is unreachable and the
  //                        store forbids creating customers offline; or a
  //                        real-time create got no answer there (it may have
  //                        been applied: the message says to search first).
  //   kFailedPrecondition  "headquarters: ..." headquarters refused it.
  //   kResourceExhausted   storage full; nothing was stored.
  void CreateAsync(const CustomerPatch& patch, const std::string& operator_id, CustomerCallback done);

  // Creates a customer here, pending, its creation queued in the outbox
  // (async mode and the offline fallback); same results as CreateAsync.
  Result<model::Customer> Create(const CustomerPatch& patch, const std::string& operator_id);

  // The customers of this terminal's store that are likely the one `patch`
  // would create (search::FindDuplicates on the customer as it would be
  // stored; `contacts_only`: by email and phone only). Works offline.
  // Returns: kOk (empty: none); kInvalidArgument "field: ..." bad input (as
  // Create); kFailedPrecondition "terminal: ..." while access is closed.
  Result<std::vector<search::DuplicateCandidate>> LikelyDuplicates(const CustomerPatch& patch,
                                                                   const std::string& operator_id, bool contacts_only);

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

  // Repairs a creation or an edit headquarters rejected (`rejected`, from
  // the quarantine): `patch` (the fix: another loyalty card, a corrected
  // field) applied to the customer as it stands here, with an edit's
  // rejected values first put back, validated as an edit is, and the
  // operation queued again under a new id (headquarters keeps its answer to
  // the rejected one), the quarantine entry gone. A resent edit changes the
  // fields the rejected one did and those the fix does.
  // Returns:
  //   kOk                  the customer (a creation's still pending).
  //   kFailedPrecondition  "quarantine: ..." a book or timeline entry (those
  //                        are discarded), or the customer is gone.
  //   kAborted             "version: ..." the customer changed meanwhile.
  //   kInvalidArgument, kAlreadyExists, kResourceExhausted as Edit;
  //   kNotFound "quarantine: ..." resent or dropped meanwhile.
  Result<model::Customer> ResendRejected(const storage::QuarantineEntry& rejected, const CustomerPatch& patch,
                                         const std::string& operator_id);

  // Gives up an operation headquarters rejected: a creation's customer
  // (never at headquarters) leaves this terminal with all of it; an edit's
  // customer goes back to headquarters' copy, fetched over the link (so
  // only online; a customer still waiting for its account keeps its values
  // until headquarters' merged copy arrives); a book or timeline entry is
  // dropped. `done` gets:
  //   kOk; kNotFound "quarantine: ..." gone meanwhile, or "headquarters: ..."
  //   it lacks the customer; kUnavailable "headquarters: ..." offline (an
  //   edit); kResourceExhausted storage full.
  void DiscardRejected(const storage::QuarantineEntry& rejected, const std::string& operator_id,
                       std::function<void(Status)> done);

  // Returns: kOk; kNotFound "customer: ..." when `ref` is neither a stored
  // account number nor a stored local id.
  Result<model::Customer> Find(std::string_view ref);

  // Searches the terminal's cache (search::SearchCustomers).
  Result<std::vector<SearchResult>> Search(std::string_view query, std::size_t limit);

  // Searches the whole chain at headquarters; kUnavailable when offline.
  void SearchChain(const std::string& query, std::size_t limit, Headquarters::SearchCallback done);

  // Connects the link; nullptr: offline for good.
  void SetHeadquarters(Headquarters* headquarters) { headquarters_ = headquarters; }
  Headquarters* headquarters() const { return headquarters_; }

  // Replaces the store configuration (headquarters distributed a new one).
  // REQUIRES: valid.
  void SetStoreConfig(model::StoreConfig config) { config_ = std::move(config); }

  const model::StoreConfig& store_config() const { return config_; }
  const std::string& terminal_id() const { return terminal_id_; }
  // Whether customer data is served (access.h). While it is not, Create,
  // CreateAsync, Edit, Find, Search and SearchChain return
  // kFailedPrecondition "terminal: ..." and touch nothing.
  void SetAccess(Access access) { access_ = access; }
  const Access& access() const { return access_; }

 private:
  Status ApplyPatch(const CustomerPatch& patch, const model::Customer* before,
                    const std::string& operator_id, std::int64_t now_ms, model::Customer& c) const;
  // The new customer and its creation operation, validated, not stored.
  Result<model::Operation> PrepareCreate(const CustomerPatch& patch, const std::string& operator_id) const;
  // An operation of `kind` on `c` from this terminal by `operator_id` at
  // `now_ms`, under a fresh operation id.
  Result<model::Operation> NewOperation(model::OperationKind kind, const model::Customer& c,
                                        const std::string& operator_id, std::int64_t now_ms) const;
  // Fills `op.consents` with the consent ledger entries the change from
  // `before` (nullptr: a creation) to `op.customer` makes (model::ConsentChanges),
  // stamped with the operation's time, terminal and operator.
  Status RecordConsents(const model::Customer* before, model::Operation& op) const;
  // Stores `create` pending with its operation queued, or refuses when the
  // store is in sync mode, forbids offline creation and `offline_fallback`.
  Result<model::Customer> StorePending(const model::Operation& create, bool offline_fallback);

  storage::CustomerTable& store_;
  Clock& clock_;
  const std::string terminal_id_;
  model::StoreConfig config_;
  Headquarters* headquarters_ = nullptr;
  Access access_;
};

}  // namespace kassa::customers
