#pragma once

// AccessRecorder: the terminal's half of the data-access audit trail
// (model/access_event.h). The local API and the device flows tell it who
// opened, listed or printed which customers; it keeps them in memory, one
// event per (customer, action, actor) until the next flush, and writes them
// to the AccessEventQueue in one durable transaction at most every
// `flush_interval` (at once when `flush_at` are waiting), then calls
// `on_queued` so the link ships them. Reads stay read-only: a search never
// waits for a disk sync, and a run of keystrokes listing the same customers
// costs one event each.
//
// What a crash can lose: the events of the last flush interval (1 s by
// default; docs/PRIVACY.md says so). A failed write (storage full, an I/O
// error) is logged and retried at the next flush with what came since; past
// `max_waiting` events the newest are counted as dropped and logged once a
// flush, never kept without bound.
//
// Threading: not thread-safe; call from the service's io_context thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kassa/base/clock.h"
#include "kassa/model/access_event.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::customers {

struct AccessRecorderOptions {
  std::chrono::milliseconds flush_interval{1000};
  std::size_t flush_at = 256;      // waiting events that flush at once
  std::size_t max_waiting = 4096;  // waiting events kept while the store refuses writes
};

class AccessRecorder {
 public:
  // REQUIRES: `queue` and `clock` outlive the recorder.
  AccessRecorder(boost::asio::any_io_executor executor, storage::AccessEventQueue& queue, Clock& clock,
                 std::function<void()> on_queued, AccessRecorderOptions options = {});
  ~AccessRecorder();
  AccessRecorder(const AccessRecorder&) = delete;
  AccessRecorder& operator=(const AccessRecorder&) = delete;

  // `actor` did `action` to each of `customers` now. An empty actor, or one
  // longer than model::kMaxOperatorIdBytes, is recorded as "unknown".
  void Record(model::AccessAction action, std::string_view actor, std::span<const model::LocalId> customers);
  void Record(model::AccessAction action, std::string_view actor, const model::LocalId& customer) {
    Record(action, actor, std::span<const model::LocalId>(&customer, 1));
  }

  // Writes what is waiting now. Returns the queue's error (the events stay
  // waiting).
  Status Flush();
  // Flushes and stops the timer (the service stops).
  void Stop();
  // Forgets what is waiting and records nothing more (the terminal was
  // wiped: its store is gone).
  void Discard();

  std::size_t waiting() const { return waiting_.size(); }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void Arm();

  storage::AccessEventQueue& queue_;
  Clock& clock_;
  std::function<void()> on_queued_;
  const AccessRecorderOptions options_;
  boost::asio::steady_timer timer_;
  bool armed_ = false;
  bool discarded_ = false;
  std::vector<model::AccessEvent> waiting_;
  // (customer, action, actor) of the waiting events: one each until flushed.
  std::set<std::tuple<model::LocalId, model::AccessAction, std::string>> seen_;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_logged_ = 0;
};

}  // namespace kassa::customers
