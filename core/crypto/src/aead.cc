#include "kassa/crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

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

// This thread's cipher context, reset by every call that uses it.
EVP_CIPHER_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  KASSA_CHECK(ctx != nullptr);
  return ctx.get();
}

const EVP_CIPHER* CipherOf(AeadAlgorithm a) {
  switch (a) {
    case AeadAlgorithm::kAes256Gcm: return EVP_aes_256_gcm();
    case AeadAlgorithm::kChaCha20Poly1305: return EVP_chacha20_poly1305();
  }
  return nullptr;
}

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
  EVP_CIPHER_CTX* ctx = ThreadContext();
  int n = 0;
  int tail = 0;
  std::uint8_t* body = nonce + kNonceBytes;
  const bool ok = EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), nonce) == 1 &&
                  (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1) &&
                  EVP_EncryptUpdate(ctx, body, &n, plain.data(), static_cast<int>(plain.size())) == 1 &&
                  EVP_EncryptFinal_ex(ctx, body + n, &tail) == 1 &&
                  static_cast<std::size_t>(n + tail) == plain.size() &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, body + plain.size()) == 1;
  if (!ok) {
    KASSA_LOG(kError) << "seal: OpenSSL failed";
    return Status(StatusCode::kInternal, "seal: the cipher failed");
  }
  return out;
}

Result<Bytes> Open(const SecretKey& key, ByteView aad, ByteView sealed) {
  if (sealed.size() < kSealOverhead) return Malformed("sealed value: too short");
  const EVP_CIPHER* cipher = CipherOf(static_cast<AeadAlgorithm>(sealed[0]));
  if (cipher == nullptr) return Malformed("sealed value: unknown algorithm");
  if (sealed.size() > INT_MAX || aad.size() > INT_MAX) return Malformed("sealed value: too large");
  const std::uint8_t* nonce = sealed.data() + 1;
  const std::uint8_t* body = nonce + kNonceBytes;
  const std::size_t size = sealed.size() - kSealOverhead;
  Bytes out(size);
  EVP_CIPHER_CTX* ctx = ThreadContext();
  int n = 0;
  int tail = 0;
  std::uint8_t tag[kTagBytes];
  std::memcpy(tag, body + size, kTagBytes);
  const bool ok = EVP_DecryptInit_ex(ctx, cipher, nullptr, key.data(), nonce) == 1 &&
                  (aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1) &&
                  EVP_DecryptUpdate(ctx, out.data(), &n, body, static_cast<int>(size)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) == 1 &&
                  EVP_DecryptFinal_ex(ctx, out.data() + n, &tail) == 1;
  if (!ok) {
    Wipe(out.data(), out.size());
    return Malformed("sealed value: does not authenticate (another key, or changed)");
  }
  return out;
}

}  // namespace kassa::crypto
