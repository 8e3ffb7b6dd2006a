#include "branch_warmer.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstring>
#include <optional>

#include "kassa/base/log.h"

namespace kassa::storage {
namespace {

static_assert(std::endian::native == std::endian::little, "LMDB's node layout is read as little-endian");

// LMDB's MDB_db (mdb.c): a database's record in the main database.
struct DbRecord {
  std::uint32_t pad;
  std::uint16_t flags;
  std::uint16_t depth;  // levels, the leaves' included
  std::size_t branch_pages, leaf_pages, overflow_pages, entries;
  std::size_t root;
};
static_assert(sizeof(DbRecord) == 8 + 5 * sizeof(std::size_t));

// LMDB's page header (MDB_page up to mp_ptrs) and node header (MDB_node up
// to mn_data): pgno_t is size_t, indx_t is uint16_t.
constexpr std::size_t kPageHeader = sizeof(std::size_t) + 8;
constexpr std::size_t kNodeHeader = 8;
constexpr std::uint16_t kBranchFlag = 0x01;  // P_BRANCH
// Pages asked for at once: enough for the disk to serve them together, few
// enough that a search's own reads never queue behind thousands.
constexpr std::size_t kBatch = 16;
constexpr std::uint16_t kMetaFlag = 0x08;    // P_META
constexpr std::uint32_t kMagic = 0xBEEFC0DE;  // MDB_MAGIC, first in a meta page's MDB_meta

template <typename T>
T Load(const std::uint8_t* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

// The start of the map, found from `inside` (a value LMDB returned from a
// leaf page of the map in a read transaction): LMDB exposes the map's
// address only with MDB_FIXEDMAP. The value's page starts at the page
// boundary below it and holds its own number; the map starts that many
// pages before, where page 0 must be a meta page with LMDB's magic.
// Returns nullptr when that does not hold.
const std::uint8_t* MapStart(const void* inside, std::size_t page_size, std::size_t pages) {
  const auto at = reinterpret_cast<std::uintptr_t>(inside);
  const std::uintptr_t page = at - at % page_size;
  const auto pgno = Load<std::size_t>(reinterpret_cast<const std::uint8_t*>(page));
  if (pgno < 2 || pgno >= pages || pgno * page_size > page) return nullptr;
  const auto* map = reinterpret_cast<const std::uint8_t*>(page - pgno * page_size);
  const bool meta = Load<std::size_t>(map) == 0 && (Load<std::uint16_t>(map + sizeof(std::size_t) + 2) & kMetaFlag) != 0 &&
                    Load<std::uint32_t>(map + kPageHeader) == kMagic;
  return meta ? map : nullptr;
}

class Walker {
 public:
  Walker(const std::uint8_t* map, std::size_t page_size, std::size_t pages, const std::atomic<bool>* stop,
         BranchWarmer::Clock::time_point deadline)
      : map_(map), page_size_(page_size), pages_(pages), stop_(stop), deadline_(deadline) {}

  // Appends the children of branch page `pgno` to `out`; false (logged) when
  // the page is not what a branch page of this file must be.
  bool Children(std::size_t pgno, std::vector<std::size_t>& out) const {
    const std::uint8_t* page = map_ + pgno * page_size_;
    const auto own = Load<std::size_t>(page);
    const auto flags = Load<std::uint16_t>(page + sizeof(std::size_t) + 2);
    const auto lower = Load<std::uint16_t>(page + sizeof(std::size_t) + 4);
    if (own != pgno || (flags & kBranchFlag) == 0 || lower < kPageHeader || lower > page_size_) {
      return Refuse("a page that should be a branch page is not", pgno);
    }
    const std::size_t keys = (lower - kPageHeader) / 2;
    for (std::size_t i = 0; i < keys; ++i) {
      const auto offset = Load<std::uint16_t>(page + kPageHeader + 2 * i);
      if (offset < lower || offset + kNodeHeader > page_size_) return Refuse("a node lies outside its page", pgno);
      const std::uint8_t* node = page + offset;
      std::size_t child = std::size_t{Load<std::uint16_t>(node)} | std::size_t{Load<std::uint16_t>(node + 2)} << 16;
      if constexpr (sizeof(std::size_t) > 4) child |= std::size_t{Load<std::uint16_t>(node + 4)} << 32;
      if (child < 2 || child >= pages_) return Refuse("a child page lies outside the file", pgno);
      out.push_back(child);
    }
    return true;
  }

  // Asks for `level`'s pages at once.
  void Ask(const std::vector<std::size_t>& level) const {
    for (std::size_t pgno : level) {
      ::madvise(const_cast<std::uint8_t*>(map_) + pgno * page_size_, page_size_, MADV_WILLNEED);
    }
  }

  bool stopped() const {
    return (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) || BranchWarmer::Clock::now() > deadline_;
  }

 private:
  static bool Refuse(const char* what, std::size_t pgno) {
    KASSA_LOG(kWarning) << "branch warmer: " << what << " (page " << pgno << "); warming stopped";
    return false;
  }
  const std::uint8_t* map_;
  std::size_t page_size_, pages_;
  const std::atomic<bool>* stop_;
  BranchWarmer::Clock::time_point deadline_;
};

}  // namespace

BranchWarmer::Walked BranchWarmer::Walk(MDB_env* env, const std::vector<std::string>& databases,
                                        const std::atomic<bool>* stop, Clock::time_point deadline) {
  Walked walked;
  MDB_envinfo info{};
  MDB_stat env_stat{};
  if (mdb_env_info(env, &info) != MDB_SUCCESS || mdb_env_stat(env, &env_stat) != MDB_SUCCESS) return walked;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) return walked;
  MDB_dbi main = 0;
  bool sound = mdb_dbi_open(txn, nullptr, 0, &main) == MDB_SUCCESS;
  std::optional<Walker> walker;
  for (const std::string& name : databases) {
    if (!sound || (walker && walker->stopped())) break;
    MDB_dbi dbi = 0;
    MDB_stat stat{};
    MDB_val key{name.size(), const_cast<char*>(name.data())}, value{};
    if (mdb_dbi_open(txn, name.c_str(), 0, &dbi) != MDB_SUCCESS || mdb_stat(txn, dbi, &stat) != MDB_SUCCESS ||
        mdb_get(txn, main, &key, &value) != MDB_SUCCESS) {
      continue;  // not made yet
    }
    if (value.mv_size != sizeof(DbRecord)) {
      KASSA_LOG(kWarning) << "branch warmer: the record of database " << name << " is not LMDB's MDB_db; not warmed";
      sound = false;
      break;
    }
    if (!walker) {
      const std::uint8_t* map = MapStart(value.mv_data, env_stat.ms_psize, info.me_last_pgno + 1);
      if (map == nullptr) {
        KASSA_LOG(kWarning) << "branch warmer: the map's start is not where LMDB's page format puts it; not warmed";
        sound = false;
        break;
      }
      walker.emplace(map, env_stat.ms_psize, info.me_last_pgno + 1, stop, deadline);
    }
    const auto record = Load<DbRecord>(static_cast<const std::uint8_t*>(value.mv_data));
    if (record.depth != stat.ms_depth || record.branch_pages != stat.ms_branch_pages) {
      KASSA_LOG(kWarning) << "branch warmer: database " << name << " disagrees with mdb_stat; not warmed";
      sound = false;
      break;
    }
    walked.expected += stat.ms_branch_pages;
    if (record.depth < 2) continue;  // a root that is a leaf: nothing to warm
    if (record.root < 2 || record.root > info.me_last_pgno) {
      KASSA_LOG(kWarning) << "branch warmer: database " << name << "'s root lies outside the file; not warmed";
      sound = false;
      break;
    }
    std::vector<std::size_t> level{record.root}, next;
    for (unsigned depth = 1; depth < record.depth && sound && !walker->stopped(); ++depth) {
      next.clear();
      for (std::size_t first = 0; first < level.size() && sound; first += kBatch) {
        const std::vector<std::size_t> batch(level.begin() + static_cast<std::ptrdiff_t>(first),
                                             level.begin() + static_cast<std::ptrdiff_t>(std::min(level.size(), first + kBatch)));
        walker->Ask(batch);
        for (std::size_t pgno : batch) {
          if (walker->stopped() || !(sound = walker->Children(pgno, next))) break;
          ++walked.branch_pages;
        }
      }
      level.swap(next);
    }
  }
  mdb_txn_abort(txn);
  walked.complete = sound && !(walker && walker->stopped()) && walked.branch_pages == walked.expected;
  return walked;
}

BranchWarmer::~BranchWarmer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void BranchWarmer::Start(MDB_env* env, std::vector<std::string> databases) {
  thread_ = std::thread([this, env, databases = std::move(databases)] {
    // The disk serves this thread's reads only when no one else waits on it
    // (the idle I/O class, where the scheduler has classes: mq-deadline, bfq).
    constexpr int kWhoThread = 1, kClassIdle = 3, kClassShift = 13;  // linux/ioprio.h
    ::syscall(SYS_ioprio_set, kWhoThread, static_cast<int>(::gettid()), kClassIdle << kClassShift);
    const auto start = std::chrono::steady_clock::now();
    const Walked walked = Walk(env, databases, &stop_, start + kMaxWalk);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (walked.expected == 0) return;  // a store too small to have any
    KASSA_LOG(kInfo) << "read " << walked.branch_pages << " of " << walked.expected << " branch pages in "
                     << ms.count() << " ms" << (walked.complete ? "" : " (stopped before the end)");
  });
}

}  // namespace kassa::storage
