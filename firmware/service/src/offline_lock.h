#pragma once

// OfflineLock: keeps the terminal's access (customers/access.h) locked while
// headquarters has not been on the link for longer than the store allows
// (StoreConfig::lock_after_offline_days; 0 or no headquarters configured:
// never). The time of the last contact is kept in the store (SyncState), so
// a restart neither resets nor shortens it: it is saved when the link comes
// up, when it goes down, and hourly while it stays up. A terminal that never
// recorded one starts counting at its first start.
//
// Re-checked every minute and whenever the link goes up or down (Check());
// the link coming back unlocks at once. Locking changes nothing queued: the
// uplink keeps uploading the outbox.
//
// Threading: the service's io_context thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "kassa/base/clock.h"
#include "kassa/customers/customer_service.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::service {

class OfflineLock {
 public:
  // `changed` runs after the customer service's access changed.
  // REQUIRES: the references outlive the lock.
  OfflineLock(boost::asio::any_io_executor executor, customers::CustomerService& customers, storage::SyncState& sync,
              Clock& clock, std::function<void(const customers::Access&)> changed);

  // Checks now and every minute from now on.
  void Start();
  // Checks now (the link went up or down, or the configuration changed).
  void Check();
  // Checks no more (the terminal is wiped, or the service stops).
  void Stop();

 private:
  void Arm();

  customers::CustomerService& customers_;
  storage::SyncState& sync_;
  Clock& clock_;
  std::function<void(const customers::Access&)> changed_;
  boost::asio::steady_timer timer_;
  std::int64_t last_contact_ms_ = -1;  // -1: not read from the store yet
  std::int64_t saved_ms_ = 0;          // when last_contact_ms_ was last saved
  bool was_online_ = false;
  bool stopped_ = false;
};

}  // namespace kassa::service
