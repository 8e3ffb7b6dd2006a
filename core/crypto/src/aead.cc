#include "kassa/crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <cstring>
#include <memory>

#include "kassa/base/log.h"
#include "kassa/crypto/sha256.h"

namespace kassa::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// The ciphers fetched from OpenSSL's default provider once: OpenSSL 3
// fetches a cipher by name on every init given EVP_aes_256_gcm(), which
// costs as much as sealing a record.
const EVP_CIPHER* CipherOf(AeadAlgorithm a) {
  static EVP_CIPHER* const aes = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* const chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (a) {
    case AeadAlgorithm::kAes256Gcm: return aes;
    case AeadAlgorithm::kChaCha20Poly1305: return chacha;
  }
  return nullptr;
}

// This thread's contexts of one direction (sealing or opening), each keeping
// the key schedule of the last key it was set up with: a run of values under
// one key (every wrapped key is under the master key; outcomes and events
// under the store key) sets only the nonce. Three, so that a customer's own
// key, the master key and the store key in turn keep theirs; the least
// recently used is set up anew.
class KeyedContexts {
 public:
  explicit KeyedContexts(bool encrypt) : encrypt_(encrypt) {}

  // A context ready to seal or open with `key` and `cipher` under `nonce`.
  // Returns null when OpenSSL fails.
  EVP_CIPHER_CTX* For(const SecretKey& key, const EVP_CIPHER* cipher, const std::uint8_t* nonce) {
    for (Slot& s : slots_) {
      if (s.cipher == cipher && CRYPTO_memcmp(s.key.data(), key.data(), SecretKey::kBytes) == 0) {
        s.used = ++clock_;
        if (Init(s.ctx.get(), nullptr, nullptr, nonce)) return s.ctx.get();
        s.cipher = nullptr;
        return nullptr;
      }
    }
    Slot* oldest = &slots_[0];
    for (Slot& s : slots_) {
      if (s.used < oldest->used) oldest = &s;
    }
    Slot& s = *oldest;
    s.used = ++clock_;
    // A context set up for this cipher takes a new key without being set up again.
    const EVP_CIPHER* same = s.cipher == cipher ? nullptr : cipher;
    s.cipher = nullptr;
    if (s.ctx == nullptr || !Init(s.ctx.get(), same, key.data(), nonce)) return nullptr;
    std::memcpy(s.key.data(), key.data(), SecretKey::kBytes);
    s.cipher = cipher;
    return s.ctx.get();
  }
  // After a failure: the context's state is not trusted again.
  void Forget(EVP_CIPHER_CTX* ctx) {
    for (Slot& s : slots_) {
      if (s.ctx.get() == ctx) s.cipher = nullptr;
    }
  }

 private:
  bool Init(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher, const std::uint8_t* key, const std::uint8_t* nonce) const {
    return (encrypt_ ? EVP_EncryptInit_ex(ctx, cipher, nullptr, key, nonce)
                     : EVP_DecryptInit_ex(ctx, cipher, nullptr, key, nonce)) == 1;
  }

  struct Slot {
    std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx{EVP_CIPHER_CTX_new()};
    std::array<std::uint8_t, SecretKey::kBytes> key{};
    const EVP_CIPHER* cipher = nullptr;
    std::uint64_t used = 0;
    ~Slot() { Wipe(key.data(), key.size()); }
  };
  bool encrypt_;
  Slot slots_[3];
  std::uint64_t clock_ = 0;
};

// REQUIRES: `detail` is a literal (Status keeps the pointer).
Status Malformed(const char* detail) { return Status(StatusCode::kDataLoss, detail); }

}  // namespace

SecretKey::SecretKey(ByteView bytes) {
  KASSA_CHECK(bytes.size() == kBytes);
  std::memcpy(bytes_.data(), bytes.data(), kBytes);
}

SecretKey::~SecretKey() { Wipe(bytes_.data(), bytes_.size()); }

Result<SecretKey> SecretKey::Random() {
  SecretKey k;
  KASSA_TRY(RandomBytes(k.bytes_));
  return k;
}

void Wipe(std::uint8_t* bytes, std::size_t size) { OPENSSL_cleanse(bytes, size); }

AeadAlgorithm DefaultAead() {
#if defined(__arm__)
  return AeadAlgorithm::kChaCha20Poly1305;
#else
  return AeadAlgorithm::kAes256Gcm;
#endif
}

Result<Bytes> Seal(const SecretKey& key, ByteView aad, ByteView plain, AeadAlgorithm algorithm) {
  const EVP_CIPHER* cipher = CipherOf(algorithm);
  if (cipher == nullptr || plain.size() > INT_MAX - 64 || aad.size() > INT_MAX) {
    return Status(StatusCode::kInternal, "seal: unknown algorithm or value too large");
  }
  Bytes out(kSealOverhead + plain.size());
  out[0] = static_cast<std::uint8_t>(algorithm);
  std::uint8_t* nonce = out.data() + 1;
  KASSA_TRY(RandomBytes(std::span<std::uint8_t>(nonce, kNonceBytes)));
  thread_local KeyedContexts sealers(/*encrypt=*/true);
  EVP_CIPHER_CTX* ctx = sealers.For(key, cipher, nonce);
  int n = 0;
  int tail = 0;
  std::uint8_t* body = nonce + kNonceBytes;
  const bool ok = ctx != nullptr &&
                  (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1) &&
                  EVP_EncryptUpdate(ctx, body, &n, plain.data(), static_cast<int>(plain.size())) == 1 &&
                  EVP_EncryptFinal_ex(ctx, body + n, &tail) == 1 &&
                  static_cast<std::size_t>(n + tail) == plain.size() &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, body + plain.size()) == 1;
  if (!ok) {
    if (ctx != nullptr) sealers.Forget(ctx);
    KASSA_LOG(kError) << "seal: OpenSSL failed";
    return Status(StatusCode::kInternal, "seal: the cipher failed");
  }
  return out;
}

Result<Bytes> Open(const SecretKey& key, ByteView aad, ByteView sealed) {
  Bytes out;
  KASSA_TRY(OpenInto(key, aad, sealed, out));
  return out;
}

Status OpenInto(const SecretKey& key, ByteView aad, ByteView sealed, Bytes& out) {
  out.clear();
  if (sealed.size() < kSealOverhead) return Malformed("sealed value: too short");
  const EVP_CIPHER* cipher = CipherOf(static_cast<AeadAlgorithm>(sealed[0]));
  if (cipher == nullptr) return Malformed("sealed value: unknown algorithm");
  if (sealed.size() > INT_MAX || aad.size() > INT_MAX) return Malformed("sealed value: too large");
  const std::uint8_t* nonce = sealed.data() + 1;
  const std::uint8_t* body = nonce + kNonceBytes;
  const std::size_t size = sealed.size() - kSealOverhead;
  out.resize(size);
  thread_local KeyedContexts openers(/*encrypt=*/false);
  EVP_CIPHER_CTX* ctx = openers.For(key, cipher, nonce);
  int n = 0;
  int tail = 0;
  std::uint8_t tag[kTagBytes];
  std::memcpy(tag, body + size, kTagBytes);
  const bool ok = ctx != nullptr &&
                  (aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1) &&
                  EVP_DecryptUpdate(ctx, out.data(), &n, body, static_cast<int>(size)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) == 1 &&
                  EVP_DecryptFinal_ex(ctx, out.data() + n, &tail) == 1;
  if (!ok) {
    if (ctx != nullptr) openers.Forget(ctx);
    Wipe(out.data(), out.size());
    out.clear();
    return Malformed("sealed value: does not authenticate (another key, or changed)");
  }
  return Status::Ok();
}

}  // namespace kassa::crypto
