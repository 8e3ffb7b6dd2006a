#pragma once

// The LMDB implementations of the views of terminal_tables.h, each over the
// tables it names there, all on one StoreCore (terminal_core.h).

#include "core_keeper.h"
#include "terminal_core.h"

namespace kassa::storage::terminal {

// A view `View` of terminal_tables.h working on the core `keeper` keeps
// open: each call takes it from Acquire() first (reopened when the disk
// failed the previous commit).
template <typename View>
class On : public View {
 public:
  explicit On(CoreKeeper& keeper) : keeper_(keeper) {}

 protected:
  Result<StoreCore*> Core() { return keeper_.Acquire(); }
  CoreKeeper& keeper_;
};

class LmdbCustomerTable final : public On<CustomerTable> {
 public:
  using On::On;
  Status Create(const model::Customer& customer, const model::Operation* op) override;
  Status Replace(const model::Customer& customer, std::uint32_t expected_version, const model::Operation* op) override;
  Result<model::Customer> Get(const model::LocalId& id) override;
  Status ResendRejected(std::uint64_t quarantine_seq, const model::Customer& fixed, const model::Operation& op) override;
  Status DiscardRejected(std::uint64_t quarantine_seq, const model::Customer* headquarters_copy) override;
  Status Read(const Reader& read) override;
  Status ApplyHeadquartersCustomer(const model::Customer& customer) override;
};

class LmdbOutbox final : public On<OutboxView> {
 public:
  using On::On;
  Result<std::vector<OutboxEntry>> PeekOutbox(std::size_t max) override;
  Result<std::size_t> QueuedFor(const model::LocalId& id) override;
};

class LmdbSyncState final : public On<SyncState> {
 public:
  using On::On;
  Result<AckResult> ApplyAcks(const std::vector<std::pair<std::uint64_t, model::OperationAck>>& acks,
                              std::int64_t now_ms) override;
  Result<DistributionResult> ApplyDistribution(const std::vector<model::Change>& changes) override;
  Result<std::vector<model::LocalId>> ApplyErasuresAhead(const std::vector<model::Change>& erasures) override;
  Result<std::uint64_t> DistributionCursor() override;
  Status ResetDistributionCursor(std::uint64_t cursor) override;
  Result<std::int64_t> LastContactMs() override;
  Status SaveLastContact(std::int64_t at_ms) override;
};

class LmdbQuarantine final : public On<QuarantineView> {
 public:
  using On::On;
  Result<std::vector<QuarantineEntry>> Quarantined(std::size_t max) override;
  Result<QuarantineEntry> Entry(std::uint64_t seq) override;
};

class LmdbStoreSettings final : public On<StoreSettings> {
 public:
  using On::On;
  Result<std::optional<model::StoreConfig>> LoadStoreConfig() override;
  Status SaveStoreConfig(const model::StoreConfig& config) override;
  Result<bool> StoreConfigFromHeadquarters() override;
};

class LmdbClienteling final : public On<ClientelingTable> {
 public:
  using On::On;
  Status WriteClienteling(const std::vector<ClientelingWrite>& writes) override;
  Result<std::optional<model::ClientelingConfig>> LoadClientelingConfig() override;
  Result<std::vector<model::Operator>> Operators() override;
  Result<std::optional<model::Operator>> FindOperator(std::string_view worker_id) override;
  Result<std::optional<model::BookEntry>> BookOf(std::string_view owner) override;
  Result<std::vector<model::BookEntry>> BookEntries(std::string_view owner) override;
  Result<bool> InBook(std::string_view owner, const model::LocalId& customer) override;
  Result<std::vector<model::TimelineEntry>> Timeline(const model::LocalId& customer, std::size_t max) override;
  Result<std::vector<model::AttributeValue>> Measures(const model::LocalId& customer) override;
  Result<std::vector<model::ConsentEntry>> Consents(const model::LocalId& customer) override;
};

class LmdbAccessEvents final : public On<AccessEventQueue> {
 public:
  using On::On;
  Status AppendAccessEvents(const std::vector<model::AccessEvent>& events) override;
  Result<std::vector<model::AccessEvent>> PeekAccessEvents(std::size_t max) override;
  Result<std::size_t> DropAccessEvents(std::uint64_t through_seq) override;
  Result<std::uint64_t> QueuedAccessEvents() override;
};

class LmdbOperatorLockouts final : public On<OperatorLockouts> {
 public:
  using On::On;
  Result<PinFailures> LoadPinFailures(std::string_view worker_id) override;
  Status SavePinFailures(std::string_view worker_id, const PinFailures& failures) override;
};

class LmdbDiagnostics final : public On<Diagnostics> {
 public:
  using On::On;
  StorageHealth Health() override;
  Result<StoreStats> Stats() override;
  Result<CheckReport> Check() override;
};

}  // namespace kassa::storage::terminal
