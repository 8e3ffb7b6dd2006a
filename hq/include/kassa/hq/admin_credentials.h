#pragma once

// Credentials of headquarters' admin API: bearer tokens ("kha_" and 64 hex
// digits: 32 random bytes), of role "admin" (every route) or "read-only"
// (the GET routes). Only a token's SHA-256 is stored, in headquarters'
// store, with its holder's name; the token itself is shown once, when it is
// issued. A fast hash is right here: a token has 256 bits of entropy, unlike
// a PIN. Issuing is audited like every change made through the admin API.

#include <cstdint>
#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/storage/chain_store.h"

namespace kassa::hq {

inline constexpr std::string_view kAdminRole = "admin";
inline constexpr std::string_view kReadOnlyRole = "read-only";

// SHA-256 of `token`, 64 lower-case hex digits.
std::string AdminTokenSha256(std::string_view token);

// Issues a new token for `name` with `role` and returns it (shown once).
// Returns: kOk; kInvalidArgument "role: ..." or "name: ..." (1 to 64
// printable bytes); the store's errors.
Result<std::string> IssueAdminToken(storage::ChainStore& store, std::int64_t now_ms, std::string_view name,
                                    std::string_view role);

// Revokes every token issued to `name` (they stop working on the next
// request), audited. Returns: kOk with how many; kNotFound "name: no token
// of that name"; the store's errors.
Result<std::size_t> RevokeAdminTokens(storage::ChainStore& store, std::int64_t now_ms, std::string_view name);

// The bootstrap credential of `kassa-hq --admin-token-file FILE`: when FILE
// exists (it must be mode 0600 and hold one token), that token is accepted
// as an admin credential named "bootstrap"; otherwise a new admin token is
// issued and written to FILE, 0600, atomically.
// Returns: kOk; kInvalidArgument "admin_token_file: ..." (readable by
// others, or not a token); kUnavailable (cannot be written).
Status BootstrapAdminTokenFile(storage::ChainStore& store, std::int64_t now_ms, const std::string& path);

}  // namespace kassa::hq
