#pragma once

// The store configuration as JSON: the terminal's config file
// (config/store.sample.json), the local API's /v1/store, and each store of
// headquarters' chain configuration. Strict: an unknown member, a wrong type
// or an invalid value is an error naming the member, e.g.
// "default_customer.currency: not a three-letter ISO 4217 code".

#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/model/store_config.h"

namespace kassa::config {

// nullopt on success, else the error text.
using JsonError = std::optional<std::string>;

// Parses and validates (model::ValidateStoreConfig) one store configuration.
JsonError ParseStoreConfig(const boost::json::value& root, model::StoreConfig& out);
boost::json::object StoreConfigToJson(const model::StoreConfig& config);

// Reads and parses a JSON file; errors start with the path.
JsonError ReadJsonFile(const std::string& path, boost::json::value& out);
JsonError LoadStoreConfigFile(const std::string& path, model::StoreConfig& out);

// Writes `config` to `path` as JSON (kassa::WriteFileAtomically).
Status WriteStoreConfigFile(const std::string& path, const model::StoreConfig& config);

// Strict readers for the members of a JSON object; `where` prefixes the
// member's name in the error ("default_customer.").
JsonError ReadString(const boost::json::object& o, const char* key, const std::string& where, std::string& out,
                     bool required);
JsonError ReadBool(const boost::json::object& o, const char* key, bool& out);
JsonError CheckMembers(const boost::json::object& o, std::initializer_list<std::string_view> known,
                       const std::string& where);

}  // namespace kassa::config
