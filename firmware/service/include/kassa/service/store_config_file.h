#pragma once

// Reads a store configuration file (JSON; see config/store.sample.json).
// Headquarters distributes the configuration later; until then a terminal is
// configured from this file.

#include <optional>
#include <string>

#include "kassa/model/store_config.h"

namespace kassa::service {

// Parses and validates the file at `path` into `out`.
// Returns nullopt on success, else an error that names the file's member at
// fault (for example "default_customer.currency: not a three-letter ISO 4217
// code").
std::optional<std::string> LoadStoreConfigFile(const std::string& path, model::StoreConfig& out);

}  // namespace kassa::service
