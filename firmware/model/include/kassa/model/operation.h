#pragma once

// An operation a terminal owes headquarters: one outbox entry, and one
// element of an upload batch on the link.

#include <cstdint>
#include <string>
#include <vector>

#include "kassa/model/customer.h"
#include "kassa/model/ids.h"

namespace kassa::model {

enum class OperationKind : std::uint8_t { kCreateCustomer = 1, kUpdateCustomer = 2 };
const char* ToString(OperationKind k);  // "create_customer" | "update_customer"

struct Operation {
  LocalId op_id;                // unique forever: headquarters applies each id once
  OperationKind kind = OperationKind::kCreateCustomer;
  std::int64_t enqueued_at_ms = 0;
  Customer customer;            // the customer as it is after the operation
  std::uint32_t base_version = 0;             // updates: the version the edit started from
  std::vector<std::uint32_t> changed_fields;  // updates: Customer field numbers on the wire
  std::string terminal_id;
  std::string operator_id;
  friend bool operator==(const Operation&, const Operation&) = default;
};

}  // namespace kassa::model
