#pragma once

// Whether the terminal has a network link, so the uplink can reconnect at
// once when the link returns instead of waiting out its backoff.
//
// Threading: call from the service's executor; the handler runs there.

#include <functional>

namespace kassa::hal {

class NetworkMonitor {
 public:
  using LinkHandler = std::function<void(bool up)>;
  virtual ~NetworkMonitor() = default;

  // Calls `on_change` whenever the link goes up or down, from now on.
  void Start(LinkHandler on_change) { DoStart(std::move(on_change)); }
  void Stop() { DoStop(); }
  bool link_up() const { return DoLinkUp(); }

 private:
  virtual void DoStart(LinkHandler on_change) = 0;
  virtual void DoStop() = 0;
  virtual bool DoLinkUp() const = 0;
};

}  // namespace kassa::hal
