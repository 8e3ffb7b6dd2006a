#include "offline_lock.h"

#include "kassa/base/log.h"
#include "kassa/base/time_format.h"

namespace kassa::service {
namespace {
constexpr std::chrono::minutes kCheckEvery{1};
constexpr std::int64_t kSaveEveryMs = 60LL * 60 * 1000;  // while the link stays up
}  // namespace

OfflineLock::OfflineLock(boost::asio::any_io_executor executor, customers::CustomerService& customers,
                         storage::SyncState& sync, Clock& clock, std::function<void(const customers::Access&)> changed)
    : customers_(customers), sync_(sync), clock_(clock), changed_(std::move(changed)), timer_(executor) {}

void OfflineLock::Start() {
  stopped_ = false;
  Check();
  Arm();
}

void OfflineLock::Stop() {
  stopped_ = true;
  timer_.cancel();
}

void OfflineLock::Arm() {
  timer_.expires_after(kCheckEvery);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    Check();
    Arm();
  });
}

void OfflineLock::Check() {
  if (stopped_ || customers_.access().state == customers::AccessState::kWiped) return;
  const std::int64_t now = clock_.NowMs();
  if (last_contact_ms_ < 0) {
    auto stored = sync_.LastContactMs();
    if (!stored.ok()) KASSA_LOG(kWarning) << "offline lock: " << stored.status().detail();
    last_contact_ms_ = stored.ok() ? *stored : 0;
    saved_ms_ = last_contact_ms_;
  }
  const customers::Headquarters* hq = customers_.headquarters();
  const bool online = hq != nullptr && hq->online();
  // The last contact is now while the link is up, and at the moment it went down.
  const bool save = last_contact_ms_ == 0 || (online && (!was_online_ || now - saved_ms_ >= kSaveEveryMs)) ||
                    (!online && was_online_);
  if (online || save) last_contact_ms_ = now;
  if (save) {
    if (Status s = sync_.SaveLastContact(now); s.ok()) {
      saved_ms_ = now;
    } else {
      KASSA_LOG(kWarning) << "offline lock: cannot save the last contact with headquarters: " << s.detail();
    }
  }
  was_online_ = online;

  const std::uint32_t days = customers_.store_config().lock_after_offline_days;
  const bool lock = hq != nullptr && !online && customers::OfflineLimitPassed(days, last_contact_ms_, now);
  const customers::Access before = customers_.access();
  if (lock == (before.state == customers::AccessState::kLocked)) return;
  customers::Access after;
  if (lock) {
    after = customers::Access{customers::AccessState::kLocked, last_contact_ms_};
    KASSA_LOG(kWarning) << "customer data LOCKED: headquarters not reached since " << FormatIsoTime(last_contact_ms_)
                        << ", more than the store's " << days << " day(s); the outbox is kept and uploads when the "
                        << "link returns";
  } else {
    KASSA_LOG(kInfo) << "customer data unlocked: headquarters is reachable again";
  }
  customers_.SetAccess(after);
  changed_(after);
}

}  // namespace kassa::service
