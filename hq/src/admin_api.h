#pragma once

// Headquarters' admin API (HTTP/JSON on loopback), documented in docs/API.md:
//   GET  /v1/health
//   GET  /v1/status                 customers, terminals with cursor and lag, operations, rejections
//   GET  /v1/config                 the chain configuration
//   PUT  /v1/config                 replace it (validated; changed stores are distributed)
//   GET  /v1/customers?q=&limit=    chain-wide search
//   GET  /v1/customers/{account}    one customer

#include "kassa/base/clock.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/http/http_server.h"

namespace kassa::hq {

void HandleAdmin(Registry& registry, LinkServer& link, Clock& clock, const http::Request& req,
                 http::Respond respond);

}  // namespace kassa::hq
