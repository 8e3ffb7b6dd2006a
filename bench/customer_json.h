#pragma once

// Compact JSON of a customer and of an upload operation, the way a JSON sync
// API would send them: no whitespace, empty members left out, enums as text,
// ids as hex. The wire-size baseline of the link, and the SQLite baseline's
// details column.

#include <string>

#include "kassa/model/customer.h"
#include "kassa/model/operation.h"

namespace kassa::bench {

std::string CompactJson(const model::Customer& customer);
std::string CompactJson(const model::Operation& operation);

}  // namespace kassa::bench
