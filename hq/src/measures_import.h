#pragma once

// Insight measures as headquarters imports them (admin API POST /v1/measures):
// per customer account number, up to three name/value pairs, from
//   JSON: {"measures": [{"account": "LV00000001",
//                        "values": [{"name": "Churn likelihood", "value": "12%"}]}]}
//   CSV:  a header line "account,name,value", then one line a measure
//         (fields may be double-quoted; "" is a quote inside one).
// Errors name the element or line. Private to kassa::hq.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"

namespace kassa::hq {

// Account number -> its measures, in the order given.
using MeasuresByAccount = std::map<std::string, std::vector<model::AttributeValue>>;

// Returns: kOk; kInvalidArgument with the element or line at fault in
// `field` ("measures[2].values", "line 7", "line 7.name").
Status ParseMeasuresJson(std::string_view body, MeasuresByAccount& out, std::string& field);
Status ParseMeasuresCsv(std::string_view body, MeasuresByAccount& out, std::string& field);

}  // namespace kassa::hq
