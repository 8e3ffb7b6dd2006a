#pragma once

// A store configuration for tests: a GB store (for the E.164 examples of
// the issue), async creation, two customer groups.

#include "kassa/model/store_config.h"

namespace kassa::testing {

inline model::StoreConfig SampleStore() {
  model::StoreConfig s;
  s.store_id = "LON-01";
  s.legal_entity = "GB01";
  s.operating_unit_country = "GB";
  s.creation_mode = model::CreationMode::kAsync;
  s.allow_offline_creation = true;
  s.customer_groups = {{"RETAIL", "Retail"}, {"TRADE", "Trade"}};
  s.default_customer = {"GB-DEFAULT", model::CustomerType::kPerson, "RETAIL", model::ReceiptPreference::kEmail,
                        "receipts@shop.example", "GBP", "en-GB", {"Members"}};
  return s;
}

}  // namespace kassa::testing
