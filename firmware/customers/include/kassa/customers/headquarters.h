#pragma once

// Headquarters as the customer service sees it: the link (kassa::uplink)
// implements this; the service works without it (always offline).
//
// Threading: every call and every callback on the service's one thread.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/model/operation.h"
#include "kassa/model/sync.h"

namespace kassa::customers {

// The link's state, for status screens.
struct LinkState {
  std::string address;                 // "host:port" of headquarters
  bool online = false;
  std::int64_t online_since_ms = 0;    // when the current link came up
  std::int64_t last_failure_ms = 0;    // 0: never
  std::string last_failure;            // why the link last went down or failed to come up
  std::uint64_t connects = 0;          // successful connections so far
};

class Headquarters {
 public:
  using AckCallback = std::function<void(Result<model::OperationAck>)>;
  using SearchCallback = std::function<void(Result<std::vector<model::Customer>>)>;

  virtual ~Headquarters() = default;

  // True while a link to headquarters is up.
  virtual bool online() const = 0;

  // Applies `op` at headquarters at once. `done` runs exactly once: with
  // headquarters' acknowledgement (applied or rejected), or kUnavailable /
  // kDeadlineExceeded when no answer came in time. A late answer is dropped;
  // the same operation id sent again later gets the same outcome.
  virtual void ApplyNow(const model::Operation& op, AckCallback done) = 0;

  // The outbox has new operations: send them soon.
  virtual void OutboxChanged() = 0;

  // Connect now if offline (no backoff wait), and send the outbox now.
  virtual void SyncNow() = 0;

  virtual LinkState state() const = 0;

  // Searches every customer of the chain at headquarters.
  // `done` gets kUnavailable when offline or out of time, kInvalidArgument
  // when headquarters refuses the query.
  virtual void SearchChain(const std::string& query, std::size_t limit, SearchCallback done) = 0;
};

}  // namespace kassa::customers
