#include "branch_warmer.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "kassa/base/log.h"
#include "lmdb_pages.h"

namespace kassa::storage {
namespace {

// Pages asked for at once: enough for the disk to serve them together, few
// enough that a search's own reads never queue behind thousands.
constexpr std::size_t kBatch = 16;

class Walker {
 public:
  Walker(const lmdb_pages::MapView& map, const std::atomic<bool>* stop, BranchWarmer::Clock::time_point deadline)
      : map_(map), stop_(stop), deadline_(deadline) {}

  // Appends the children of branch page `pgno` to `out`; false (logged) when
  // the page is not what a branch page of this file must be.
  bool Children(std::size_t pgno, std::vector<std::size_t>& out) {
    nodes_.clear();
    const char* problem = nullptr;
    if (!map_.BranchNodes(pgno, nodes_, problem)) {
      KASSA_LOG(kWarning) << "branch warmer: " << problem << " (page " << pgno << "); warming stopped";
      return false;
    }
    for (const lmdb_pages::BranchNode& node : nodes_) out.push_back(node.child);
    return true;
  }

  // Asks for `level`'s pages at once.
  void Ask(const std::vector<std::size_t>& level) const {
    for (std::size_t pgno : level) map_.Ask(pgno);
  }

  bool stopped() const {
    return (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) || BranchWarmer::Clock::now() > deadline_;
  }

 private:
  lmdb_pages::MapView map_;
  std::vector<lmdb_pages::BranchNode> nodes_;
  const std::atomic<bool>* stop_;
  BranchWarmer::Clock::time_point deadline_;
};

}  // namespace

BranchWarmer::Walked BranchWarmer::Walk(MDB_env* env, const std::vector<std::string>& databases,
                                        const std::atomic<bool>* stop, Clock::time_point deadline) {
  Walked walked;
  MDB_envinfo info{};
  if (mdb_env_info(env, &info) != MDB_SUCCESS) return walked;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) return walked;
  bool sound = true;
  std::optional<Walker> walker;
  for (const std::string& name : databases) {
    if (!sound || (walker && walker->stopped())) break;
    MDB_dbi dbi = 0;
    MDB_stat stat{};
    if (mdb_dbi_open(txn, name.c_str(), 0, &dbi) != MDB_SUCCESS || mdb_stat(txn, dbi, &stat) != MDB_SUCCESS) {
      continue;  // not made yet
    }
    lmdb_pages::DbRecord record{};
    const void* in_map = lmdb_pages::ReadDbRecord(txn, name.c_str(), record);
    if (in_map == nullptr) {
      KASSA_LOG(kWarning) << "branch warmer: the record of database " << name << " is not LMDB's MDB_db; not warmed";
      sound = false;
      break;
    }
    if (!walker) {
      const lmdb_pages::MapView map = lmdb_pages::MapView::Of(env, in_map);
      if (!map.valid()) {
        KASSA_LOG(kWarning) << "branch warmer: the map's start is not where LMDB's page format puts it; not warmed";
        sound = false;
        break;
      }
      walker.emplace(map, stop, deadline);
    }
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
