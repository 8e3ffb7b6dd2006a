#pragma once

// Patches, outbox entries, device states and events as the local API's JSON
// (customers: kassa/http/customer_json.h). Strict on input:
// an unknown member or a wrong type is an error that names the member.

#include <boost/json.hpp>
#include <string>

#include "kassa/customers/customer_service.h"
#include "kassa/devices/device_flows.h"
#include "kassa/http/reply.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::api {

boost::json::object OutboxEntryJson(const storage::OutboxEntry& e, std::int64_t now_ms);
boost::json::object DeviceStatusJson(const hal::DeviceStatus& s);
// {"type", "device", "code", "customer" (or null), "status" (device_status), "detail"}
boost::json::object EventJson(const devices::Event& e);

// Parses a create or edit body. `expected_version`, when not null, takes
// (and requires) the "version" member of an edit.
//
// Returns: kOk; kInvalidArgument with the member in `field` on an unknown
// member, a wrong JSON type, an unknown enum value, or a missing "version"
// on an edit.
Status ParsePatch(const boost::json::value& body, customers::CustomerPatch& patch, std::uint32_t* expected_version,
                  std::string& field);

}  // namespace kassa::api
