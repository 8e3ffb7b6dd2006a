#pragma once

// Operations as a terminal queues them, for the storage tests.

#include <string>

#include "kassa/model/customer.h"
#include "kassa/model/operation.h"

namespace kassa::testing {

// The creation of `c` from terminal `terminal`, under a fresh operation id.
inline model::Operation CreationOf(const model::Customer& c, std::string terminal = "POS-1") {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kCreateCustomer;
  op.customer = c;
  op.terminal_id = std::move(terminal);
  return op;
}

}  // namespace kassa::testing
