#pragma once

// A legal entity's clienteling configuration and operators as JSON: a member
// of each legal entity in headquarters' chain configuration
// (config/chain.sample.json), and of a terminal's config file for a terminal
// that starts before it ever reached headquarters. Strict like
// store_config_json.h: errors name the member.
//
//   "clienteling": {
//     "roles": [{"id": "associate", "name": "...", "permissions": ["view_own_book", ...]}],
//     "attributes": [{"name": "likes", "label": "Likes", "type": "choice", "display_order": 1,
//                     "refinable": true, "choices": ["handbags", "shoes"]}],
//     "activity_types": [{"id": "visit", "name": "Store visit"}],
//     "idle_timeout_s": 300, "max_pin_attempts": 5, "lockout_s": 300 },
//   "operators": [{"worker_id": "A100", "name": "...", "stores": ["RIGA-01"], "role": "associate",
//                  "pin_hash": "pbkdf2-sha256$...", "badge": "EMP0042", "active": true}]

#include <boost/json.hpp>
#include <vector>

#include "kassa/config/store_config_json.h"
#include "kassa/model/clienteling.h"

namespace kassa::config {

// `legal_entity` fills ClientelingConfig::legal_entity and each operator's.
// Returns: kOk; kInvalidArgument with the member's path in `field`
// (store_config_json.h says how parsers report).
Status ParseClienteling(const boost::json::value& v, const std::string& legal_entity, const std::string& where,
                        model::ClientelingConfig& out, std::string& field);
Status ParseOperators(const boost::json::value& v, const std::string& legal_entity, const std::string& where,
                      std::vector<model::Operator>& out, std::string& field);
// A terminal's clienteling file: {"clienteling": {...}, "operators": [...]}
// (config/clienteling.sample.json).
// Returns: kOk; kUnavailable (cannot be read); kInvalidArgument
// "clienteling: ..." (the path and member at fault are logged).
Status LoadClientelingFile(const std::string& path, const std::string& legal_entity,
                           model::ClientelingConfig& config, std::vector<model::Operator>& operators);

boost::json::object ClientelingToJson(const model::ClientelingConfig& c);
// `with_secrets`: the PIN hash and badge too (headquarters' saved
// configuration only; never an API answer: they are write-only).
boost::json::object OperatorToJson(const model::Operator& op, bool with_secrets);

}  // namespace kassa::config
