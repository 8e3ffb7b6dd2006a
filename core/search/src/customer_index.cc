#include "kassa/search/customer_index.h"

namespace kassa::search {

Result<std::vector<IndexHit>> IndexSnapshot::ScanPrefix(IndexKind kind, std::string_view prefix,
                                                        std::size_t limit) const {
  std::vector<IndexHit> hits;
  if (limit == 0) return hits;
  KASSA_TRY(VisitPrefix(kind, prefix, [&](const IndexEntryView& hit) {
    hits.push_back({hit.id, std::string(hit.term), hit.field, std::string(hit.detail), hit.exact});
    return hits.size() < limit;
  }));
  return hits;
}

Result<std::vector<IndexHit>> CustomerIndex::ScanPrefix(IndexKind kind, std::string_view prefix, std::size_t limit) {
  std::vector<IndexHit> hits;
  KASSA_TRY(Read([&](const IndexSnapshot& snapshot) -> Status {
    KASSA_TRY_ASSIGN(hits, snapshot.ScanPrefix(kind, prefix, limit));
    return Status::Ok();
  }));
  return hits;
}

Result<std::vector<model::Customer>> CustomerIndex::GetMany(const std::vector<model::LocalId>& ids) {
  std::vector<model::Customer> customers;
  KASSA_TRY(Read([&](const IndexSnapshot& snapshot) -> Status {
    KASSA_TRY_ASSIGN(customers, snapshot.GetMany(ids));
    return Status::Ok();
  }));
  return customers;
}

}  // namespace kassa::search
