#pragma once

// CustomerIndex: what search needs from a store of customers: prefix scans of
// the secondary indexes (index.h) and reading customers by id. The terminal's
// CustomerStore and headquarters' ChainStore both provide it, so one search
// implementation serves the terminal and the chain.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/search/index.h"

namespace kassa::search {

// One index hit of a prefix scan.
struct IndexHit {
  model::LocalId id;
  std::string term;  // the stored term that matched (IndexSnapshot::StoredTerm)
  MatchedField field;
  std::string detail;  // IndexEntry::detail
  bool exact = false;  // the stored term is the prefix scanned for, not longer
};

// An index entry seen by VisitPrefix: the views are valid during the call.
struct IndexEntryView {
  const model::LocalId& id;
  std::string_view term;    // the stored term (IndexSnapshot::StoredTerm)
  MatchedField field;
  std::string_view detail;  // IndexEntry::detail, name tokens as stored terms
  bool exact;               // the stored term is the prefix scanned for, not longer
};

// One consistent read view of a CustomerIndex (an LMDB read transaction):
// everything read through it is of the same moment.
class IndexSnapshot {
 public:
  virtual ~IndexSnapshot() = default;

  // Calls `visit` with the index entries of `kind` whose term starts with
  // `prefix`, in key order: entries whose term is exactly `prefix` first,
  // then longer terms in byte order; by id within a term. Stops when `visit`
  // returns false.
  using Visitor = std::function<bool(const IndexEntryView&)>;
  virtual Status VisitPrefix(IndexKind kind, std::string_view prefix, const Visitor& visit) const = 0;

  // How a term of `kind` is stored: the term itself, or a keyed form that
  // keeps prefixes (a prefix of a term stores as a prefix of its form) but
  // may, rarely, be shared by two terms. Where it is not the term itself,
  // exact_terms() is false and a match found on stored terms is only a
  // candidate, confirmed on the customer's record.
  virtual std::string StoredTerm(IndexKind kind, std::string_view term) const {
    (void)kind;
    return std::string(term);
  }
  virtual bool exact_terms() const { return true; }

  // Says that VisitPrefix will be called for `prefix` of `kind` within this
  // snapshot, before the first such call: a store whose pages may be on the
  // disk can then read them together once it finds the first scan slow.
  // Changes nothing that is read; by default does nothing.
  virtual void Expect(IndexKind kind, std::string_view prefix) const {
    (void)kind;
    (void)prefix;
  }

  // The customers `ids`, in order.
  // Returns: kOk; kNotFound when any is missing; kDataLoss.
  virtual Result<std::vector<model::Customer>> GetMany(const std::vector<model::LocalId>& ids) const = 0;

  // The first `limit` entries VisitPrefix would visit, copied.
  Result<std::vector<IndexHit>> ScanPrefix(IndexKind kind, std::string_view prefix, std::size_t limit) const;
};

class CustomerIndex {
 public:
  virtual ~CustomerIndex() = default;

  // Runs `read` over one snapshot, which ends when `read` returns; `read`
  // must not call this index itself.
  using Reader = std::function<Status(const IndexSnapshot&)>;
  virtual Status Read(const Reader& read) = 0;

  // Each of these in a snapshot of its own.
  Result<std::vector<IndexHit>> ScanPrefix(IndexKind kind, std::string_view prefix, std::size_t limit);
  Result<std::vector<model::Customer>> GetMany(const std::vector<model::LocalId>& ids);
};

}  // namespace kassa::search
