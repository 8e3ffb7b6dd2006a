#pragma once

// A customer as every API of both daemons returns it (docs/API.md
// "Customer"), and the ISO time format of every time stamp in them.

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"

namespace kassa::http {

// "2026-11-22T10:30:00.123Z"; empty for 0 (never).
std::string IsoTime(std::int64_t unix_ms);

// Every field; "account" is "Pending sync" until headquarters assigns one.
boost::json::object CustomerJson(const model::Customer& c);

// An activity or note: id, kind, at, worker_id, text (and activity_type).
boost::json::object TimelineJson(const model::TimelineEntry& e);
// {"seq" (null while not at headquarters yet), "channel", "contact", "granted",
//  "text_version", "at", "terminal_id", "operator_id"}
boost::json::object ConsentJson(const model::ConsentEntry& e);

}  // namespace kassa::http
