#pragma once

// The bearer token kassad's metrics listener (--metrics-listen) takes, from
// --metrics-token-file: the file, mode 0600 or stricter, holds one token of
// 32 to 256 printable bytes (a fleet's monitoring writes its own, e.g.
// `openssl rand -hex 32`); when the file does not exist, a new random token
// ("kmt_" and 64 hex digits) is written there (0600, atomically) for the
// monitoring to copy. Only the token's SHA-256 is kept in memory, and a
// presented token is compared with it in constant time.
//
// Threading: Accepts() is safe from any thread (read only).

#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/crypto/sha256.h"

namespace kassa::service {

class MetricsToken {
 public:
  // Returns: kOk; kInvalidArgument "metrics_token_file: ..." (readable by
  // others, or not a token); kUnavailable (cannot be read or written).
  static Result<MetricsToken> Load(const std::string& path);

  bool Accepts(std::string_view token) const;

 private:
  explicit MetricsToken(const crypto::Digest& sha256) : sha256_(sha256) {}
  crypto::Digest sha256_;
};

}  // namespace kassa::service
