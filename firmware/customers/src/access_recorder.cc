#include "kassa/customers/access_recorder.h"

#include "kassa/base/log.h"
#include "kassa/model/limits.h"

namespace kassa::customers {

AccessRecorder::AccessRecorder(boost::asio::any_io_executor executor, storage::AccessEventQueue& queue, Clock& clock,
                               std::function<void()> on_queued, AccessRecorderOptions options)
    : queue_(queue), clock_(clock), on_queued_(std::move(on_queued)), options_(options), timer_(executor) {}

AccessRecorder::~AccessRecorder() { timer_.cancel(); }

void AccessRecorder::Record(model::AccessAction action, std::string_view actor,
                            std::span<const model::LocalId> customers) {
  if (discarded_ || customers.empty()) return;
  const std::string who = actor.empty() || actor.size() > model::kMaxOperatorIdBytes ? "unknown" : std::string(actor);
  const std::int64_t now = clock_.NowMs();
  for (const auto& id : customers) {
    if (!seen_.emplace(id, action, who).second) continue;
    if (waiting_.size() >= options_.max_waiting) {
      ++dropped_;
      continue;
    }
    waiting_.push_back(model::AccessEvent{id, action, now, "", who, 0});
  }
  if (waiting_.size() >= options_.flush_at) {
    (void)Flush();  // logged there
  } else if (!waiting_.empty()) {
    Arm();
  }
}

void AccessRecorder::Arm() {
  if (armed_) return;
  armed_ = true;
  timer_.expires_after(options_.flush_interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    armed_ = false;
    if (ec || discarded_) return;
    (void)Flush();
  });
}

Status AccessRecorder::Flush() {
  if (dropped_ != dropped_logged_) {
    KASSA_LOG(kError) << "access audit: " << dropped_ - dropped_logged_
                      << " event(s) dropped while the store refused writes";
    dropped_logged_ = dropped_;
  }
  if (discarded_ || waiting_.empty()) return Status::Ok();
  if (Status s = queue_.AppendAccessEvents(waiting_); !s.ok()) {
    KASSA_LOG(kError) << "access audit: " << waiting_.size() << " event(s) not written yet: " << s.detail();
    Arm();
    return s;
  }
  waiting_.clear();
  seen_.clear();
  if (on_queued_) on_queued_();
  return Status::Ok();
}

void AccessRecorder::Stop() {
  (void)Flush();
  timer_.cancel();
}

void AccessRecorder::Discard() {
  discarded_ = true;
  waiting_.clear();
  seen_.clear();
  timer_.cancel();
}

}  // namespace kassa::customers
