#pragma once

// What travels between a terminal and headquarters besides operations
// (operation.h): acknowledgements, distributed changes and the link's
// control messages. Plain values; the wire form is kassa::proto_codec's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"
#include "kassa/model/ids.h"
#include "kassa/model/operation.h"
#include "kassa/model/store_config.h"

namespace kassa::model {

// Version of the link protocol this build speaks. Terminals and headquarters
// are never upgraded at once, headquarters first: it serves terminals of this
// version and of the one before (kOldestLinkProtocolVersion; there is none
// before 1), and its Welcome says which of them a connection speaks. A
// terminal finding headquarters outside that window (older, or newer than it
// knows) stays offline and says why in its status. An incompatible change
// to link.proto raises kLinkProtocolVersion; adding fields does not (proto3
// skips what it does not know).
// 2: timeline entries of kind conflict (clienteling.h), which a terminal of
//    1 cannot read: headquarters passes over them for it (Speaks()).
inline constexpr std::uint32_t kLinkProtocolVersion = 2;
inline constexpr std::uint32_t kOldestLinkProtocolVersion = kLinkProtocolVersion > 1 ? kLinkProtocolVersion - 1 : 1;

// Why the other end, speaking link protocol `version`, cannot be served by
// this build (which speaks kOldestLinkProtocolVersion to
// kLinkProtocolVersion), naming which of the two to upgrade: "" when it
// can. `peer` and `self` name the ends ("this terminal", "headquarters").
std::string LinkVersionProblem(std::uint32_t version, std::string_view peer, std::string_view self);

// Headquarters' answer to one operation.
struct OperationAck {
  enum class Outcome : std::uint8_t { kApplied = 1, kRejected = 2 };
  LocalId op_id;
  Outcome outcome = Outcome::kApplied;
  LocalId customer_id;
  std::string account;        // applied: the customer's account number
  std::uint32_t version = 0;  // applied: the customer's version at headquarters
  std::string reason;         // rejected: "field: message"
  bool applied() const { return outcome == Outcome::kApplied; }
  friend bool operator==(const OperationAck&, const OperationAck&) = default;
};

// One entry of headquarters' change log as a terminal receives it.
struct Change {
  enum class Kind : std::uint8_t { kCustomerUpsert = 1, kStoreConfig = 2, kClienteling = 3, kCustomerErased = 4 };
  std::uint64_t seq = 0;  // the cursor after applying this change
  Kind kind = Kind::kCustomerUpsert;
  Customer customer;          // kCustomerUpsert
  StoreConfig store_config;   // kStoreConfig
  ClientelingRecord clienteling;  // kClienteling
  LocalId erased;             // kCustomerErased: only the id travels
  friend bool operator==(const Change&, const Change&) = default;
};

// Whether a terminal speaking link protocol `version` can read `change`.
bool Speaks(std::uint32_t version, const Change& change);

struct Hello {
  std::string terminal_id;
  std::string store_id;
  std::uint32_t protocol_version = kLinkProtocolVersion;
  std::uint64_t distribution_cursor = 0;
};

struct Welcome {
  std::uint32_t protocol_version = kLinkProtocolVersion;
  std::uint64_t head_cursor = 0;
  std::int64_t server_time_ms = 0;
  std::int64_t wipe_ordered_at_ms = 0;  // non-zero: headquarters ordered this terminal wiped
};

struct RealtimeRequest {
  std::uint32_t request_id = 0;
  Operation operation;
};

struct RealtimeReply {
  std::uint32_t request_id = 0;
  OperationAck ack;
};

struct SearchRequest {
  std::uint32_t request_id = 0;
  std::string query;
  std::uint32_t limit = 0;
};

struct SearchReply {
  std::uint32_t request_id = 0;
  std::string error;  // empty on success
  std::vector<Customer> customers;
};

}  // namespace kassa::model
