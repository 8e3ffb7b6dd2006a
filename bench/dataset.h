#pragma once

// Deterministic customers for the benchmarks: the same seed and index give the
// same customer on every machine and in every run, so kassa and its baselines
// load identical data and answer identical queries.
//
// A chain with stores in Latvia, Finland, Sweden and China: names of each
// locale (Latvian with its diacritics and gendered surnames, Finnish, Swedish,
// Chinese in Han characters), mobile phones of the country in E.164, emails
// built from the folded name, one to three addresses, secondary contacts with
// consents, a few attributes, an account number for every customer and a
// loyalty card for most.

#include <cstdint>
#include <string>

#include "kassa/model/customer.h"

namespace kassa::bench {

struct DatasetOptions {
  std::uint64_t seed = 20261122;
};

class Dataset {
 public:
  explicit Dataset(DatasetOptions options) : options_(options) {}

  // Customer number `index` (0-based): account "LV" + 8 digits of index + 1,
  // unique email, unique loyalty card (when it has one).
  model::Customer Customer(std::uint64_t index) const;

  // A customer that is not in the data set (`index` counts new ones), as
  // terminal `terminal_id` creates it: pending (no account), version 1,
  // changed when created, its consents captured at that terminal.
  model::Customer NewCustomer(std::uint64_t index, const std::string& terminal_id) const;

 private:
  DatasetOptions options_;
};

}  // namespace kassa::bench
