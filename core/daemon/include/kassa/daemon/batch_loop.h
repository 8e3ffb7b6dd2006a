#pragma once

// BatchLoop: long work (a key rotation over a million slots) done in small
// steps on the daemon's event loop, a pause apart, so that requests are
// served in between and a stop ends it between two steps.
//
// Threading: use from the event loop's thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "kassa/base/status.h"

namespace kassa::daemon {

class BatchLoop {
 public:
  // A step returns true when the work is finished; a failure ends it (logged
  // with `what`).
  using Step = std::function<Result<bool>()>;
  BatchLoop(boost::asio::any_io_executor executor, std::string what, std::chrono::milliseconds pause)
      : timer_(executor), what_(std::move(what)), pause_(pause) {}
  BatchLoop(const BatchLoop&) = delete;
  BatchLoop& operator=(const BatchLoop&) = delete;

  // Runs `step` until it is finished; a no-op while running.
  void Start(Step step);
  // Ends it before the next step.
  void Stop();
  bool running() const { return running_; }

 private:
  void Next();

  boost::asio::steady_timer timer_;
  std::string what_;
  std::chrono::milliseconds pause_;
  Step step_;
  bool running_ = false;
};

}  // namespace kassa::daemon
