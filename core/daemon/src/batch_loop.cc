#include "kassa/daemon/batch_loop.h"

#include "kassa/base/log.h"

namespace kassa::daemon {

void BatchLoop::Start(Step step) {
  if (running_) return;
  step_ = std::move(step);
  running_ = true;
  Next();
}

void BatchLoop::Stop() {
  running_ = false;
  timer_.cancel();
}

void BatchLoop::Next() {
  timer_.expires_after(pause_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    auto done = step_();
    if (!done.ok()) {
      KASSA_LOG(kError) << what_ << " stopped: " << done.status().detail() << " (it resumes at the next start)";
      running_ = false;
      return;
    }
    if (*done) {
      running_ = false;
      return;
    }
    Next();
  });
}

}  // namespace kassa::daemon
