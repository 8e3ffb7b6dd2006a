#pragma once

// CustomerIndex: what search needs from a store of customers: prefix scans of
// the secondary indexes (index.h) and reading customers by id. The terminal's
// CustomerStore and headquarters' ChainStore both provide it, so one search
// implementation serves the terminal and the chain.

#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/storage/index.h"

namespace kassa::storage {

// One index hit of a prefix scan.
struct IndexHit {
  model::LocalId id;
  std::string term;  // the stored term that matched
  MatchedField field;
};

class CustomerIndex {
 public:
  virtual ~CustomerIndex() = default;

  // Index entries of `kind` whose term starts with `prefix`, in term order,
  // at most `limit`.
  virtual Result<std::vector<IndexHit>> ScanPrefix(IndexKind kind, std::string_view prefix, std::size_t limit) = 0;

  // The customers `ids`, in order, read in one snapshot.
  // Returns: kOk; kNotFound when any is missing; kDataLoss.
  virtual Result<std::vector<model::Customer>> GetMany(const std::vector<model::LocalId>& ids) = 0;
};

}  // namespace kassa::storage
