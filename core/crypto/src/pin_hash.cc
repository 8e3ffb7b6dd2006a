#include "kassa/crypto/pin_hash.h"

#include <charconv>
#include <optional>
#include <vector>

#include "kassa/crypto/sha256.h"

namespace kassa::crypto {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;

std::optional<Bytes> FromHex(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return std::nullopt;
  Bytes out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    const auto r = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + 2 * i + 2) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

struct Parsed {
  std::uint32_t iterations = 0;
  Bytes salt;
  Bytes hash;
};

std::optional<Parsed> Parse(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto dollar = s.find('$');
    parts.push_back(s.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    s.remove_prefix(dollar + 1);
  }
  if (parts.size() != 4 || parts[0] != kScheme) return std::nullopt;
  Parsed p;
  const auto r = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), p.iterations);
  if (r.ec != std::errc() || r.ptr != parts[1].data() + parts[1].size()) return std::nullopt;
  auto salt = FromHex(parts[2]);
  auto hash = FromHex(parts[3]);
  if (!salt || !hash || hash->size() < 16 || hash->size() > 64) return std::nullopt;
  p.salt = std::move(*salt);
  p.hash = std::move(*hash);
  return p;
}

}  // namespace

Result<std::string> HashPin(std::string_view pin, std::uint32_t iterations) {
  if (pin.size() < 4 || pin.size() > 12 || pin.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status(StatusCode::kInvalidArgument, "pin: 4 to 12 digits");
  }
  if (iterations < kMinPinIterations || iterations > kMaxPinIterations) {
    return Status(StatusCode::kInvalidArgument, "pin: iterations out of 10000 to 1000000");
  }
  Bytes salt(kSaltBytes);
  KASSA_TRY(RandomBytes(salt));
  Digest hash{};
  KASSA_TRY(Pbkdf2HmacSha256(AsBytes(pin), salt, iterations, hash));
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + HexOf(salt) + "$" + HexOf(hash);
}

Status CheckPinHashFormat(std::string_view pin_hash) {
  const auto p = Parse(pin_hash);
  if (!p) return Status(StatusCode::kInvalidArgument, "pin_hash: not pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX");
  if (p->iterations < kMinPinIterations) return Status(StatusCode::kInvalidArgument, "pin_hash: at least 10000 iterations");
  if (p->iterations > kMaxPinIterations) return Status(StatusCode::kInvalidArgument, "pin_hash: at most 1000000 iterations");
  if (p->salt.size() < 8) return Status(StatusCode::kInvalidArgument, "pin_hash: a salt of at least 8 bytes");
  return Status::Ok();
}

bool VerifyPin(std::string_view pin, std::string_view pin_hash) {
  const auto p = Parse(pin_hash);
  if (!p || p->iterations < kMinPinIterations || p->iterations > kMaxPinIterations) return false;
  Bytes derived(p->hash.size());
  if (!Pbkdf2HmacSha256(AsBytes(pin), p->salt, p->iterations, derived).ok()) return false;
  return ConstantTimeEqual(derived, p->hash);
}

std::string BadgeHmac(std::string_view badge_key, std::string_view badge) {
  return HexOf(HmacSha256(AsBytes(badge_key), AsBytes(badge)));
}

}  // namespace kassa::crypto
