#include "kassa/storage/customer_index.h"

namespace kassa::storage {

Result<std::vector<IndexHit>> CustomerIndex::ScanPrefix(IndexKind kind, std::string_view prefix, std::size_t limit) {
  std::vector<IndexHit> hits;
  if (limit == 0) return hits;
  KASSA_TRY(VisitPrefix(kind, prefix, [&](const IndexEntryView& hit) {
    hits.push_back({hit.id, std::string(hit.term), hit.field, std::string(hit.names)});
    return hits.size() < limit;
  }));
  return hits;
}

}  // namespace kassa::storage
