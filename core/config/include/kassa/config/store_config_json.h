#pragma once

// The store configuration as JSON: the terminal's config file
// (config/store.sample.json), the local API's /v1/store, and each store of
// headquarters' chain configuration. Strict: an unknown member, a wrong type
// or an invalid value is an error naming the member, e.g.
// "default_customer.currency: not a three-letter ISO 4217 code".

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/model/store_config.h"

namespace kassa::config {

// Parsers of JSON input return Status: kInvalidArgument with a message that
// names no member ("must be a string"), the member at fault written to
// `field` as its path ("default_customer.currency", "stores[1].store_id"),
// so an API can answer {"field", "message"} and a file loader can log
// "PATH: FIELD: MESSAGE". Values worth naming go to the log.

// Parses and validates (model::ValidateStoreConfig) one store configuration.
Status ParseStoreConfig(const boost::json::value& root, model::StoreConfig& out, std::string& field);
boost::json::object StoreConfigToJson(const model::StoreConfig& config);

// Reads and parses a JSON file.
// Returns: kOk; kUnavailable "file: ..." (cannot be read); kInvalidArgument
// "file: ..." (not JSON); the path and reason are logged.
Status ReadJsonFile(const std::string& path, boost::json::value& out);
// Returns: kOk; kUnavailable; kInvalidArgument "config: ..." (the member at
// fault is logged with the path).
Status LoadStoreConfigFile(const std::string& path, model::StoreConfig& out);
// Logs "PATH: FIELD: MESSAGE" for a parse error of file `path`.
void LogInvalid(const std::string& path, const std::string& field, const Status& status);


// Strict readers for the members of a JSON object; `where` prefixes the
// member's name in `field` ("default_customer.").
Status ReadString(const boost::json::object& o, const char* key, const std::string& where, std::string& out,
                  bool required, std::string& field);
Status ReadBool(const boost::json::object& o, const char* key, const std::string& where, bool& out,
                std::string& field);
// A whole number from 0 to 1,000,000 (absent: `out` unchanged).
Status ReadU32(const boost::json::object& o, const char* key, const std::string& where, std::uint32_t& out,
               std::string& field);
Status CheckMembers(const boost::json::object& o, std::initializer_list<std::string_view> known,
                    const std::string& where, std::string& field);

}  // namespace kassa::config
