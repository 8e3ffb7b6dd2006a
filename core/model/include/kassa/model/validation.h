#pragma once

// Normalizing and validating a customer before it is stored.

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/model/store_config.h"

namespace kassa::model {

// Trims text fields, upper-cases country codes, normalizes every phone to
// E.164 with the store's country, then checks every field.
//
// Returns:
//   kOk               `c` is normalized and valid.
//   kInvalidArgument  the detail names the field, e.g. "email: not an email
//                     address", "last_name: longer than 64 bytes",
//                     "customer_group: unknown customer group". `c` may be
//                     partly normalized; callers discard it.
Status NormalizeCustomer(Customer& c, const StoreConfig& store);

// Checks an already-normalized customer (used on records read back and on
// distribution from headquarters): sizes, counts, enum ranges and syntax.
Status ValidateCustomer(const Customer& c, const StoreConfig& store);

}  // namespace kassa::model
