#pragma once

// Headquarters' configuration of the chain: the account number format, and
// per legal entity its customer groups (with financial dimensions) and its
// stores (each a model::StoreConfig, the same JSON as a terminal's file).
// See config/chain.sample.json.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kassa/config/store_config_json.h"
#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"
#include "kassa/model/store_config.h"

namespace kassa::hq {

// Account numbers: `prefix` then the sequence number zero-padded to `digits`.
struct AccountFormat {
  std::string prefix;
  int digits = 6;
  // nullopt when `n` no longer fits in `digits`.
  std::optional<std::string> Format(std::uint64_t n) const;
  friend bool operator==(const AccountFormat&, const AccountFormat&) = default;
};

struct ChainGroup {
  std::string id;
  std::string name;
  std::vector<model::AttributeValue> financial_dimensions;  // name -> value
  friend bool operator==(const ChainGroup&, const ChainGroup&) = default;
};

struct LegalEntity {
  std::string id;
  std::vector<ChainGroup> customer_groups;
  std::vector<model::StoreConfig> stores;  // legal_entity and customer_groups filled from here
  model::ClientelingConfig clienteling;     // roles, attributes, activity types
  std::vector<model::Operator> operators;
  const model::Operator* FindOperator(std::string_view worker_id) const;
  friend bool operator==(const LegalEntity&, const LegalEntity&) = default;
};

// "retention": how long headquarters keeps what no one uses (0: forever).
struct Retention {
  int inactive_customer_years = 0;  // customers neither changed nor with an activity for this long are erased
  int audit_months = 0;             // admin audit entries older than this are deleted
  friend bool operator==(const Retention&, const Retention&) = default;
};

// Whose customers a terminal's chain search (sync mode) finds.
enum class SearchScope { kLegalEntity, kChain };

struct ChainConfig {
  AccountFormat account_numbers;
  std::vector<LegalEntity> legal_entities;
  // "chain_search_scope": "legal_entity" (default: a terminal finds its own
  // legal entity's customers) or "chain" (every legal entity's).
  SearchScope chain_search_scope = SearchScope::kLegalEntity;
  Retention retention;

  const model::StoreConfig* FindStore(std::string_view store_id) const;
  const LegalEntity* FindLegalEntity(std::string_view id) const;
  // The financial dimensions of group `group_id` of `legal_entity` (empty when unknown).
  std::vector<model::AttributeValue> DimensionsOf(std::string_view legal_entity, std::string_view group_id) const;
  // model::StoreConfigWarnings of every store, in configuration order.
  std::vector<std::string> Warnings() const;
  friend bool operator==(const ChainConfig&, const ChainConfig&) = default;
};

// Parses and validates.
// Returns: kOk; kInvalidArgument with the member's path in `field`, e.g.
// "legal_entities[0].stores[1].default_customer.currency".
Status ParseChainConfig(const boost::json::value& root, ChainConfig& out, std::string& field);
// `with_secrets`: the operators' PIN hashes and badges too (what is saved in
// headquarters' store); the admin API answers without them.
boost::json::object ChainConfigToJson(const ChainConfig& config, bool with_secrets);
// `next` with the PIN hash and badge of every operator that gives none taken
// from the same operator (legal entity and worker id) in `current`: secrets
// are write-only, so a configuration read from the API and put back keeps
// them.
ChainConfig KeepOperatorSecrets(ChainConfig next, const ChainConfig& current);
// `next` with each operator's former stores kept from `current`, plus the
// stores `current` gave them that `next` takes away, less any `next` gives
// back (newest last; the oldest fall off past model::kMaxOperatorStores):
// the stores whose client book keeps showing the associate's book.
ChainConfig RecordFormerStores(ChainConfig next, const ChainConfig& current);

}  // namespace kassa::hq
