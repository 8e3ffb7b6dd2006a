#include "lmdb_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>

#include "kassa/base/log.h"

namespace kassa::storage::lmdb_pages {
namespace {

static_assert(std::endian::native == std::endian::little, "LMDB's node layout is read as little-endian");

// LMDB's page header (MDB_page up to mp_ptrs) and node header (MDB_node up
// to mn_data): pgno_t is size_t, indx_t is uint16_t.
constexpr std::size_t kPageHeader = sizeof(std::size_t) + 8;
constexpr std::size_t kNodeHeader = 8;
constexpr std::uint16_t kBranchFlag = 0x01;   // P_BRANCH
constexpr std::uint16_t kMetaFlag = 0x08;     // P_META
constexpr std::uint32_t kMagic = 0xBEEFC0DE;  // MDB_MAGIC, first in a meta page's MDB_meta

template <typename T>
T Load(const std::uint8_t* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

}  // namespace

MapView MapView::Of(MDB_env* env, const void* inside) {
  MapView view;
  MDB_envinfo info{};
  MDB_stat stat{};
  if (mdb_env_info(env, &info) != MDB_SUCCESS || mdb_env_stat(env, &stat) != MDB_SUCCESS || stat.ms_psize == 0) {
    return view;
  }
  const std::size_t page_size = stat.ms_psize;
  const std::size_t pages = info.me_last_pgno + 1;
  // LMDB exposes the map's address only with MDB_FIXEDMAP. The value's page
  // starts at the page boundary below it and holds its own number; the map
  // starts that many pages before, where page 0 must be a meta page with
  // LMDB's magic.
  const auto at = reinterpret_cast<std::uintptr_t>(inside);
  const std::uintptr_t page = at - at % page_size;
  const auto pgno = Load<std::size_t>(reinterpret_cast<const std::uint8_t*>(page));
  if (pgno < 2 || pgno >= pages || pgno * page_size > page) return view;
  const auto* map = reinterpret_cast<const std::uint8_t*>(page - pgno * page_size);
  const bool meta = Load<std::size_t>(map) == 0 && (Load<std::uint16_t>(map + sizeof(std::size_t) + 2) & kMetaFlag) != 0 &&
                    Load<std::uint32_t>(map + kPageHeader) == kMagic;
  if (!meta) return view;
  view.map_ = map;
  view.page_size_ = page_size;
  view.pages_ = pages;
  return view;
}

bool MapView::BranchNodes(std::size_t pgno, std::vector<BranchNode>& out, const char*& problem) const {
  if (pgno < 2 || pgno >= pages_) {
    problem = "a page number lies outside the file";
    return false;
  }
  const std::uint8_t* page = map_ + pgno * page_size_;
  const auto own = Load<std::size_t>(page);
  const auto flags = Load<std::uint16_t>(page + sizeof(std::size_t) + 2);
  const auto lower = Load<std::uint16_t>(page + sizeof(std::size_t) + 4);
  if (own != pgno || (flags & kBranchFlag) == 0 || lower < kPageHeader || lower > page_size_) {
    problem = "a page that should be a branch page is not";
    return false;
  }
  const std::size_t keys = (lower - kPageHeader) / 2;
  for (std::size_t i = 0; i < keys; ++i) {
    const auto offset = Load<std::uint16_t>(page + kPageHeader + 2 * i);
    if (offset < lower || offset + kNodeHeader > page_size_) {
      problem = "a node lies outside its page";
      return false;
    }
    const std::uint8_t* node = page + offset;
    std::size_t child = std::size_t{Load<std::uint16_t>(node)} | std::size_t{Load<std::uint16_t>(node + 2)} << 16;
    if constexpr (sizeof(std::size_t) > 4) child |= std::size_t{Load<std::uint16_t>(node + 4)} << 32;
    const std::size_t key_size = Load<std::uint16_t>(node + 6);
    if (child < 2 || child >= pages_) {
      problem = "a child page lies outside the file";
      return false;
    }
    if (offset + kNodeHeader + key_size > page_size_) {
      problem = "a key lies outside its page";
      return false;
    }
    out.push_back({child, std::string_view(reinterpret_cast<const char*>(node + kNodeHeader), key_size)});
  }
  return true;
}

void MapView::Ask(std::size_t pgno) const {
  ::madvise(const_cast<std::uint8_t*>(map_) + pgno * page_size_, page_size_, MADV_WILLNEED);
}

const void* ReadDbRecord(MDB_txn* txn, const char* name, DbRecord& out) {
  MDB_dbi main = 0;
  MDB_val key{std::strlen(name), const_cast<char*>(name)}, value{};
  if (mdb_dbi_open(txn, nullptr, 0, &main) != MDB_SUCCESS || mdb_get(txn, main, &key, &value) != MDB_SUCCESS ||
      value.mv_size != sizeof(DbRecord)) {
    return nullptr;
  }
  std::memcpy(&out, value.mv_data, sizeof out);
  return value.mv_data;
}

std::size_t LeavesAhead::At(ByteView key) {
  if (broken_ || max_leaves_ == 0 || key.empty()) return 0;
  if (!map_.valid()) {
    // The map found from the database's record, which a read transaction
    // reads in place; then the scan's key must lie in it too.
    const void* record = ReadDbRecord(txn_, database_, record_);
    if (record != nullptr) map_ = MapView::Of(mdb_txn_env(txn_), record);
    if (!map_.valid() || record_.depth < 2) {
      broken_ = true;  // a tree of one leaf has nothing ahead; a map not as expected is left alone
      return 0;
    }
  }
  if (!map_.Holds(key.data())) return 0;
  const std::size_t leaf = map_.PageOf(key.data());
  if (leaf == leaf_) return 0;
  leaf_ = leaf;
  // Down from the root by `key`, as LMDB went: at each branch page the last
  // node whose key is at most `key` (node 0 for keys below node 1's).
  const std::string_view wanted(reinterpret_cast<const char*>(key.data()), key.size());
  std::size_t pgno = record_.root;
  for (unsigned level = 1; level < record_.depth; ++level) {
    nodes_.clear();
    const char* problem = nullptr;
    if (!map_.BranchNodes(pgno, nodes_, problem) || nodes_.empty()) {
      KASSA_LOG_THROTTLED("leaves ahead: " << (problem != nullptr ? problem : "an empty branch page") << " (page "
                                           << pgno << "); nothing asked");
      broken_ = true;
      return 0;
    }
    const auto after = std::upper_bound(nodes_.begin() + 1, nodes_.end(), wanted,
                                        [](std::string_view k, const BranchNode& n) { return k < n.key; });
    const std::size_t i = static_cast<std::size_t>(after - nodes_.begin()) - 1;
    if (level + 1 < record_.depth) {
      pgno = nodes_[i].child;
      continue;
    }
    if (nodes_[i].child != leaf) {
      KASSA_LOG_THROTTLED("leaves ahead: the descent did not reach the scan's leaf; nothing asked");
      broken_ = true;
      return 0;
    }
    std::size_t asked = 0;
    for (std::size_t j = i + 1; j < nodes_.size() && asked < max_leaves_; ++j) {
      // No key under node j is smaller than its own: past the prefix, so are they.
      if (nodes_[j].key.substr(0, prefix_.size()) > prefix_) break;
      map_.Ask(nodes_[j].child);
      ++asked;
    }
    return asked;
  }
  return 0;
}

}  // namespace kassa::storage::lmdb_pages
