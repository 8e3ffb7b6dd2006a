#pragma once

// The LMDB implementations of the views of terminal_tables.h, each over the
// tables it names there, all on one StoreCore (terminal_core.h).

#include "terminal_core.h"

namespace kassa::storage::terminal {

class LmdbCustomerTable final : public CustomerTable {
 public:
  explicit LmdbCustomerTable(StoreCore& core) : core_(core) {}
  Status Create(const model::Customer& customer, const model::Operation* op) override;
  Status Replace(const model::Customer& customer, std::uint32_t expected_version, const model::Operation* op) override;
  Result<model::Customer> Get(const model::LocalId& id) override;
  Status Read(const Reader& read) override;
  Status ApplyHeadquartersCustomer(const model::Customer& customer) override;

 private:
  StoreCore& core_;
};

class LmdbOutbox final : public OutboxView {
 public:
  explicit LmdbOutbox(StoreCore& core) : core_(core) {}
  Result<std::vector<OutboxEntry>> PeekOutbox(std::size_t max) override;

 private:
  StoreCore& core_;
};

class LmdbSyncState final : public SyncState {
 public:
  explicit LmdbSyncState(StoreCore& core) : core_(core) {}
  Result<AckResult> ApplyAcks(const std::vector<std::pair<std::uint64_t, model::OperationAck>>& acks,
                              std::int64_t now_ms) override;
  Result<DistributionResult> ApplyDistribution(const std::vector<model::Change>& changes) override;
  Result<std::uint64_t> DistributionCursor() override;
  Status ResetDistributionCursor(std::uint64_t cursor) override;

 private:
  StoreCore& core_;
};

class LmdbQuarantine final : public QuarantineView {
 public:
  explicit LmdbQuarantine(StoreCore& core) : core_(core) {}
  Result<std::vector<QuarantineEntry>> Quarantined(std::size_t max) override;

 private:
  StoreCore& core_;
};

class LmdbStoreSettings final : public StoreSettings {
 public:
  explicit LmdbStoreSettings(StoreCore& core) : core_(core) {}
  Result<std::optional<model::StoreConfig>> LoadStoreConfig() override;
  Status SaveStoreConfig(const model::StoreConfig& config) override;

 private:
  StoreCore& core_;
};

class LmdbClienteling final : public ClientelingTable {
 public:
  explicit LmdbClienteling(StoreCore& core) : core_(core) {}
  Status WriteClienteling(const std::vector<ClientelingWrite>& writes) override;
  Result<std::optional<model::ClientelingConfig>> LoadClientelingConfig() override;
  Result<std::vector<model::Operator>> Operators() override;
  Result<std::optional<model::Operator>> FindOperator(std::string_view worker_id) override;
  Result<std::optional<model::BookEntry>> BookOf(std::string_view owner) override;
  Result<std::vector<model::BookEntry>> BookEntries(std::string_view owner) override;
  Result<bool> InBook(std::string_view owner, const model::LocalId& customer) override;
  Result<std::vector<model::TimelineEntry>> Timeline(const model::LocalId& customer, std::size_t max) override;
  Result<std::vector<model::AttributeValue>> Measures(const model::LocalId& customer) override;

 private:
  StoreCore& core_;
};

class LmdbOperatorLockouts final : public OperatorLockouts {
 public:
  explicit LmdbOperatorLockouts(StoreCore& core) : core_(core) {}
  Result<PinFailures> LoadPinFailures(std::string_view worker_id) override;
  Status SavePinFailures(std::string_view worker_id, const PinFailures& failures) override;

 private:
  StoreCore& core_;
};

class LmdbDiagnostics final : public Diagnostics {
 public:
  explicit LmdbDiagnostics(StoreCore& core) : core_(core) {}
  Result<StoreStats> Stats() override;
  Result<CheckReport> Check() override;

 private:
  StoreCore& core_;
};

}  // namespace kassa::storage::terminal
