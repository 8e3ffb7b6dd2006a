// The power-cut replay (issue 20, item 3): rebuilds, from a store's files
// before a run (--base) and the log of every write and sync the run made to
// them (--log, written by disk_fault_shim.c with KASSA_FAULT_RECORD), the
// files a power cut could have left, opens each as kassad would and checks
// it:
//   - at every sync: everything written before it on the disk;
//   - between two syncs: what the first one made durable, plus a random
//     subset of the writes in flight since, landed in a random order
//     (--reorderings of them per sync).
// A state passes when the store opens, its consistency check (doctor) is
// clean and every creation acknowledged before the last sync it holds
// (--acks: "LOG_OFFSET CUSTOMER_ID" lines, the log's size when the answer
// arrived) is there. LMDB's one assumption is kept: a meta page write
// (at most one page, one write) lands whole or not at all; no write is torn.
//
// Prints one line of figures; exits 0 when every state passed, 1 otherwise.
// Written by hand: no tool replays a write log into an LMDB store
// (dm-log-writes would, with root and a block device).

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "kassa/base/log.h"
#include "kassa/crypto/key_store.h"
#include "kassa/storage/customer_store.h"

namespace {

namespace fs = std::filesystem;
using kassa::storage::CustomerStore;

struct Event {
  bool sync = false;
  int file = 0;  // 0: data.mdb, 1: the key slots file
  std::uint64_t offset = 0;
  std::string bytes;
  std::uint64_t log_end = 0;  // the log's size after this record
};

std::vector<Event> ReadLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Event> events;
  std::size_t at = 0;
  while (at + 14 <= log.size()) {
    Event e;
    const auto byte = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(log[at + i])); };
    e.sync = log[at] == 2;
    e.file = log[at + 1];
    for (int i = 0; i < 8; ++i) e.offset |= byte(2 + static_cast<std::size_t>(i)) << (8 * i);
    std::uint64_t length = 0;
    for (int i = 0; i < 4; ++i) length |= byte(10 + static_cast<std::size_t>(i)) << (8 * i);
    if (at + 14 + length > log.size()) break;  // the last record, cut short by the kill
    e.bytes = log.substr(at + 14, length);
    at += 14 + length;
    e.log_end = at;
    events.push_back(std::move(e));
  }
  return events;
}

struct Ack {
  std::uint64_t log_offset = 0;
  kassa::model::LocalId id;
};

struct Options {
  std::string base, log, acks, key, work;
  int reorderings = 2;
  std::uint64_t seed = 1;
};

class Replayer {
 public:
  explicit Replayer(Options options) : o_(std::move(options)), rng_(o_.seed) {}

  int Run() {
    events_ = ReadLog(o_.log);
    std::ifstream acks(o_.acks);
    std::uint64_t offset = 0;
    std::string hex;
    while (acks >> offset >> hex) {
      auto id = kassa::model::LocalId::FromHex(hex);
      if (!id) return Fail("--acks: not a customer id: " + hex);
      acks_.push_back({offset, *id});
    }
    std::vector<std::size_t> syncs;
    for (std::size_t i = 0; i < events_.size(); ++i) {
      if (events_[i].sync) syncs.push_back(i);
    }
    std::size_t previous = 0;  // events before it are durable
    for (const std::size_t s : syncs) {
      // At the sync: everything written before it.
      Check(Applied(s), events_[s].log_end, "at sync");
      // Between the previous sync and this one: a random part of the writes in flight.
      for (int r = 0; r < o_.reorderings && s > previous + 1; ++r) {
        std::vector<std::size_t> in_flight;
        for (std::size_t i = previous; i < s; ++i) {
          if (!events_[i].sync && std::bernoulli_distribution(0.5)(rng_)) in_flight.push_back(i);
        }
        std::shuffle(in_flight.begin(), in_flight.end(), rng_);
        std::vector<std::size_t> order = Applied(previous);
        order.insert(order.end(), in_flight.begin(), in_flight.end());
        Check(order, previous == 0 ? 0 : events_[previous - 1].log_end, "torn");
      }
      previous = s + 1;
    }
    std::printf("[power cut] %zu writes and %zu syncs logged; %d states replayed (%d at a sync, %d torn between "
                "two): %d opened and checked clean, %d failed; acknowledged creates: %zu, missing in any state: %d\n",
                events_.size() - syncs.size(), syncs.size(), states_, at_sync_, states_ - at_sync_, states_ - failed_,
                failed_, acks_.size(), missing_);
    return failed_ == 0 && missing_ == 0 && states_ > 0 ? 0 : 1;
  }

 private:
  int Fail(const std::string& what) {
    std::fprintf(stderr, "kassa_power_cut_replay: %s\n", what.c_str());
    return 2;
  }

  // The indexes of every write before event `end`, in log order.
  std::vector<std::size_t> Applied(std::size_t end) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < end; ++i) {
      if (!events_[i].sync) out.push_back(i);
    }
    return out;
  }

  // Builds the files of the base plus the writes `order`, opens the store
  // and checks it; `durable_end`: the log offset up to which every
  // acknowledged create must be there.
  void Check(const std::vector<std::size_t>& order, std::uint64_t durable_end, const char* kind) {
    ++states_;
    if (std::string(kind) == "at sync") ++at_sync_;
    const std::string dir = o_.work + "/data";
    const std::string slots = o_.work + "/data.slots";
    fs::remove_all(o_.work);
    fs::create_directories(dir);
    fs::copy_file(o_.base + "/data/data.mdb", dir + "/data.mdb");
    fs::copy_file(o_.base + "/data.slots", slots);
    fs::permissions(slots, fs::perms::owner_read | fs::perms::owner_write);
    {
      std::fstream files[2] = {std::fstream(dir + "/data.mdb", std::ios::in | std::ios::out | std::ios::binary),
                               std::fstream(slots, std::ios::in | std::ios::out | std::ios::binary)};
      for (const std::size_t i : order) {
        const Event& e = events_[i];
        files[e.file].seekp(static_cast<std::streamoff>(e.offset));
        files[e.file].write(e.bytes.data(), static_cast<std::streamsize>(e.bytes.size()));
      }
    }
    const auto failed = [&](const std::string& why) {
      ++failed_;
      if (failed_ <= 5) std::fprintf(stderr, "state %d (%s, %zu writes): %s\n", states_, kind, order.size(), why.c_str());
    };
    auto keys = kassa::crypto::FileKeyStore::Open(o_.key, dir);
    if (!keys.ok()) return failed("the key file: " + std::string(keys.status().detail()));
    auto store = CustomerStore::Open({dir, std::size_t{256} << 20, std::move(*keys), slots});
    if (!store.ok()) return failed("does not open: " + std::string(store.status().detail()));
    const auto check = (*store)->diagnostics().Check();
    if (!check.ok()) return failed("the check failed: " + std::string(check.status().detail()));
    if (!check->ok()) return failed("the check found: " + check->problems.front());
    for (const Ack& a : acks_) {
      if (a.log_offset > durable_end) continue;
      if (!(*store)->customers().Get(a.id).ok()) {
        ++missing_;
        failed("acknowledged create " + a.id.ToHex() + " is missing");
      }
    }
  }

  Options o_;
  std::mt19937_64 rng_;
  std::vector<Event> events_;
  std::vector<Ack> acks_;
  int states_ = 0, at_sync_ = 0, failed_ = 0, missing_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--base") o.base = value;
    else if (flag == "--log") o.log = value;
    else if (flag == "--acks") o.acks = value;
    else if (flag == "--key") o.key = value;
    else if (flag == "--work") o.work = value;
    else if (flag == "--reorderings") o.reorderings = std::stoi(value);
    else if (flag == "--seed") o.seed = std::stoull(value);
    else {
      std::fprintf(stderr, "kassa_power_cut_replay: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.base.empty() || o.log.empty() || o.acks.empty() || o.key.empty() || o.work.empty()) {
    std::fprintf(stderr, "usage: kassa_power_cut_replay --base DIR --log FILE --acks FILE --key FILE --work DIR "
                         "[--reorderings N] [--seed N]\n");
    return 2;
  }
  kassa::SetLogLevel(kassa::LogLevel::kError);
  return Replayer(o).Run();
}
