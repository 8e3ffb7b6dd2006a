#include "kassa/crypto/sha256.h"

#include <algorithm>
#include <cstring>

namespace kassa::crypto {
namespace {

constexpr std::array<std::uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t Rotr(std::uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::Block(const std::uint8_t* p) {
  std::array<std::uint32_t, 64> w{};
  for (std::size_t i = 0; i < 16; ++i) {
    w[i] = std::uint32_t{p[4 * i]} << 24 | std::uint32_t{p[4 * i + 1]} << 16 | std::uint32_t{p[4 * i + 2]} << 8 |
           std::uint32_t{p[4 * i + 3]};
  }
  for (std::size_t i = 16; i < 64; ++i) {
    const std::uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (std::size_t i = 0; i < 64; ++i) {
    const std::uint32_t s1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
    const std::uint32_t ch = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + s1 + ch + kK[i] + w[i];
    const std::uint32_t s0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
    const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d; h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
}

void Sha256::Update(ByteView data) {
  total_ += data.size();
  std::size_t i = 0;
  if (used_ > 0) {
    const std::size_t take = std::min(data.size(), 64 - used_);
    std::memcpy(buf_.data() + used_, data.data(), take);
    used_ += take;
    i = take;
    if (used_ < 64) return;
    Block(buf_.data());
    used_ = 0;
  }
  for (; i + 64 <= data.size(); i += 64) Block(data.data() + i);
  used_ = data.size() - i;
  if (used_ > 0) std::memcpy(buf_.data(), data.data() + i, used_);
}

Digest Sha256::Finish() {
  const std::uint64_t bits = total_ * 8;
  static constexpr std::uint8_t kPad[64] = {0x80};
  Update(ByteView(kPad, used_ < 56 ? 56 - used_ : 120 - used_));
  std::array<std::uint8_t, 8> len{};
  for (std::size_t i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  Update(len);
  Digest out{};
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * j));
  }
  return out;
}

Digest Sha256Of(ByteView data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

namespace {

// HMAC with the key's pads hashed once, reused for every PBKDF2 round.
class Hmac {
 public:
  explicit Hmac(ByteView key) {
    std::array<std::uint8_t, 64> k{};
    if (key.size() > 64) {
      const Digest d = Sha256Of(key);
      std::copy(d.begin(), d.end(), k.begin());
    } else {
      std::copy(key.begin(), key.end(), k.begin());
    }
    std::array<std::uint8_t, 64> ipad{}, opad{};
    for (std::size_t i = 0; i < 64; ++i) {
      ipad[i] = static_cast<std::uint8_t>(k[i] ^ 0x36);
      opad[i] = static_cast<std::uint8_t>(k[i] ^ 0x5c);
    }
    inner_.Update(ipad);
    outer_.Update(opad);
  }
  Digest Mac(ByteView a, ByteView b = {}) const {
    Sha256 inner = inner_;
    inner.Update(a);
    inner.Update(b);
    const Digest d = inner.Finish();
    Sha256 outer = outer_;
    outer.Update(d);
    return outer.Finish();
  }

 private:
  Sha256 inner_;
  Sha256 outer_;
};

}  // namespace

Digest HmacSha256(ByteView key, ByteView message) { return Hmac(key).Mac(message); }

void Pbkdf2HmacSha256(ByteView password, ByteView salt, std::uint32_t iterations, std::span<std::uint8_t> out) {
  const Hmac hmac(password);
  for (std::uint32_t block = 1, done = 0; done < out.size(); ++block) {
    const std::array<std::uint8_t, 4> index = {static_cast<std::uint8_t>(block >> 24), static_cast<std::uint8_t>(block >> 16),
                                               static_cast<std::uint8_t>(block >> 8), static_cast<std::uint8_t>(block)};
    Digest u = hmac.Mac(salt, index);
    Digest t = u;
    for (std::uint32_t i = 1; i < iterations; ++i) {
      u = hmac.Mac(u);
      for (std::size_t j = 0; j < t.size(); ++j) t[j] ^= u[j];
    }
    const std::size_t take = std::min<std::size_t>(t.size(), out.size() - done);
    std::copy_n(t.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += static_cast<std::uint32_t>(take);
  }
}

}  // namespace kassa::crypto
