#include "kassa/hq/admin_credentials.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <fstream>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"
#include "kassa/crypto/sha256.h"

namespace kassa::hq {
namespace {

constexpr std::string_view kTokenPrefix = "kha_";
constexpr std::size_t kTokenBytes = 32;

bool LooksLikeToken(std::string_view token) {
  if (!token.starts_with(kTokenPrefix) || token.size() != kTokenPrefix.size() + 2 * kTokenBytes) return false;
  return token.substr(kTokenPrefix.size()).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Status Store(storage::ChainStore& store, std::int64_t now_ms, std::string_view token, std::string_view name,
             std::string_view role, std::string_view what) {
  const storage::AdminCredential credential{AdminTokenSha256(token), std::string(name), std::string(role), now_ms};
  return store.Transact([&](storage::ChainTxn& txn) -> Status {
    KASSA_TRY(txn.PutAdminCredential(credential));
    return txn.AppendAudit(now_ms, "kassa-hq", std::string(what) + " for " + std::string(name) + " (" +
                                                   std::string(role) + ")");
  });
}

}  // namespace

std::string AdminTokenSha256(std::string_view token) { return HexOf(crypto::Sha256Of(AsBytes(token))); }

Result<std::string> IssueAdminToken(storage::ChainStore& store, std::int64_t now_ms, std::string_view name,
                                    std::string_view role) {
  if (role != kAdminRole && role != kReadOnlyRole) {
    return Status(StatusCode::kInvalidArgument, "role: must be admin or read-only");
  }
  if (name.empty() || name.size() > 64 ||
      std::any_of(name.begin(), name.end(), [](char c) { return c < 0x20 || c == 0x7f; })) {
    return Status(StatusCode::kInvalidArgument, "name: 1 to 64 printable bytes");
  }
  std::array<std::uint8_t, kTokenBytes> random{};
  KASSA_TRY(crypto::RandomBytes(random));
  const std::string token = std::string(kTokenPrefix) + HexOf(random);
  KASSA_TRY(Store(store, now_ms, token, name, role, "admin token issued"));
  return token;
}

Result<std::size_t> RevokeAdminTokens(storage::ChainStore& store, std::int64_t now_ms, std::string_view name) {
  KASSA_TRY_ASSIGN(const auto credentials, store.AdminCredentials());
  std::size_t revoked = 0;
  KASSA_TRY(store.Transact([&](storage::ChainTxn& txn) -> Status {
    for (const auto& c : credentials) {
      if (c.name != name) continue;
      KASSA_TRY(txn.RemoveAdminCredential(c.token_sha256));
      ++revoked;
    }
    if (revoked == 0) return Status::Ok();
    return txn.AppendAudit(now_ms, "kassa-hq", "admin token(s) revoked for " + std::string(name) + " (" +
                                                   std::to_string(revoked) + ")");
  }));
  if (revoked == 0) return Status(StatusCode::kNotFound, "name: no token of that name");
  return revoked;
}

Status BootstrapAdminTokenFile(storage::ChainStore& store, std::int64_t now_ms, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 0077) != 0) {
      KASSA_LOG(kError) << path << " is readable by others; refusing it as the admin token file";
      return Status(StatusCode::kInvalidArgument, "admin_token_file: must be mode 0600");
    }
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    if (!LooksLikeToken(token)) return Status(StatusCode::kInvalidArgument, "admin_token_file: does not hold a token");
    KASSA_TRY_ASSIGN(const auto known, store.FindAdminCredential(AdminTokenSha256(token)));
    if (known) return Status::Ok();
    return Store(store, now_ms, token, "bootstrap", kAdminRole, "admin token accepted from the bootstrap file");
  }
  KASSA_TRY_ASSIGN(const std::string token, IssueAdminToken(store, now_ms, "bootstrap", kAdminRole));
  KASSA_TRY(WriteFileAtomically(path, token + "\n", 0600));
  KASSA_LOG(kInfo) << "issued the bootstrap admin token into " << path;
  return Status::Ok();
}

}  // namespace kassa::hq
