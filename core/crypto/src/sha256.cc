#include "kassa/crypto/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>

#include "kassa/base/log.h"

namespace kassa::crypto {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

// An allocation failure here is the only way these OpenSSL calls fail with
// valid arguments; the process cannot go on without memory.
Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  KASSA_CHECK(ctx_->md != nullptr && EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() = default;

void Sha256::Update(ByteView data) {
  KASSA_CHECK(EVP_DigestUpdate(ctx_->md, data.data(), data.size()) == 1);
}

Digest Sha256::Finish() {
  Digest out{};
  unsigned int size = 0;
  KASSA_CHECK(EVP_DigestFinal_ex(ctx_->md, out.data(), &size) == 1 && size == out.size());
  return out;
}

Digest Sha256Of(ByteView data) {
  Digest out{};
  unsigned int size = 0;
  KASSA_CHECK(EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) == 1 &&
              size == out.size());
  return out;
}

Digest HmacSha256(ByteView key, ByteView message) {
  Digest out{};
  unsigned int size = 0;
  KASSA_CHECK(key.size() <= INT_MAX);
  KASSA_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
                   out.data(), &size) != nullptr &&
              size == out.size());
  return out;
}

Status Pbkdf2HmacSha256(ByteView password, ByteView salt, std::uint32_t iterations, std::span<std::uint8_t> out) {
  if (iterations == 0 || iterations > INT_MAX || out.empty() || out.size() > INT_MAX || password.size() > INT_MAX ||
      salt.size() > INT_MAX) {
    return Status(StatusCode::kInvalidArgument, "pbkdf2: iterations, password, salt or output out of range");
  }
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), static_cast<int>(password.size()),
                        salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    return Status(StatusCode::kInternal, "pbkdf2: OpenSSL failed");
  }
  return Status::Ok();
}

namespace {

Status FromOpenSsl(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    KASSA_LOG(kError) << "random: OpenSSL's generator failed (not seeded?)";
    return Status(StatusCode::kUnavailable, "random: the random source failed");
  }
  return Status::Ok();
}

// Small requests (nonces and keys: 12 to 32 bytes) come from a pool of the
// generator's output, one per thread, refilled a kilobyte at a time. A call
// of RAND_bytes costs about 560 ns here whatever its size (its locks and
// parameter lookups): five or six of them an operation were 14% of a group
// commit's time at headquarters; from the pool a request costs about 10 ns.
// Bytes handed out are wiped from the pool at once. A forked child never
// hands out its parent's pool: the fork bumps a generation the pool checks.
constexpr std::size_t kPoolBytes = 1024;
constexpr std::size_t kPooledRequestBytes = 64;

std::atomic<std::uint64_t> fork_generation{0};

void AfterForkInChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomPool {
  std::array<std::uint8_t, kPoolBytes> bytes{};
  std::size_t used = kPoolBytes;  // empty
  std::uint64_t generation = 0;
  ~RandomPool() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

Status RandomBytes(std::span<std::uint8_t> out) {
  if (out.size() > INT_MAX) return Status(StatusCode::kInvalidArgument, "random: too many bytes at once");
  if (out.size() > kPooledRequestBytes) return FromOpenSsl(out);
  // Without the fork handler a child could repeat its parent's bytes: no pool then.
  static const bool fork_safe = pthread_atfork(nullptr, nullptr, AfterForkInChild) == 0;
  if (!fork_safe) return FromOpenSsl(out);
  thread_local RandomPool pool;
  const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || kPoolBytes - pool.used < out.size()) {
    OPENSSL_cleanse(pool.bytes.data(), pool.bytes.size());
    pool.used = kPoolBytes;
    KASSA_TRY(FromOpenSsl(pool.bytes));
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out.data(), pool.bytes.data() + pool.used, out.size());
  OPENSSL_cleanse(pool.bytes.data() + pool.used, out.size());
  pool.used += out.size();
  return Status::Ok();
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kassa::crypto
