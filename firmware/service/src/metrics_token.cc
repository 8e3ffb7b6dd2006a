#include "metrics_token.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>

#include "kassa/base/atomic_file.h"
#include "kassa/base/bytes.h"
#include "kassa/base/log.h"
#include "kassa/base/private_file.h"

namespace kassa::service {
namespace {

constexpr std::size_t kMinTokenBytes = 32;
constexpr std::size_t kMaxTokenBytes = 256;

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

Result<MetricsToken> MetricsToken::Load(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    std::array<std::uint8_t, 32> random{};
    KASSA_TRY(crypto::RandomBytes(random));
    std::string token = "kmt_" + HexOf(random);
    OPENSSL_cleanse(random.data(), random.size());
    const MetricsToken issued(crypto::Sha256Of(AsBytes(token)));
    const Status written = WriteFileAtomically(path, token + "\n", 0600);
    OPENSSL_cleanse(token.data(), token.size());
    KASSA_TRY(written);
    KASSA_LOG(kInfo) << "issued the metrics listener's bearer token into " << path;
    return issued;
  }
  auto content = ReadPrivateFile(path, kMaxTokenBytes + 2);
  if (!content.ok()) {
    KASSA_LOG(kError) << "metrics token file " << path << ": " << content.status().detail();
    if (content.status().code() == StatusCode::kUnavailable) {
      return Status(StatusCode::kUnavailable, "metrics_token_file: cannot be read (see log)");
    }
    return Status(StatusCode::kInvalidArgument,
                  "metrics_token_file: must be a regular file of mode 0600 holding one token (see log)");
  }
  std::string token = std::move(*content);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.size() < kMinTokenBytes || token.size() > kMaxTokenBytes || !Printable(token)) {
    OPENSSL_cleanse(token.data(), token.size());
    return Status(StatusCode::kInvalidArgument,
                  "metrics_token_file: must hold one token of 32 to 256 printable characters without spaces");
  }
  const MetricsToken loaded(crypto::Sha256Of(AsBytes(token)));
  OPENSSL_cleanse(token.data(), token.size());
  return loaded;
}

bool MetricsToken::Accepts(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  const crypto::Digest presented = crypto::Sha256Of(AsBytes(token));
  return CRYPTO_memcmp(presented.data(), sha256_.data(), presented.size()) == 0;
}

}  // namespace kassa::service
