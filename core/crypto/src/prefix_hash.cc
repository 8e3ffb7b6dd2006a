#include "kassa/crypto/prefix_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <vector>

#include "kassa/base/log.h"

namespace kassa::crypto {
namespace {

// Output bytes are 0x21..0xFF: never 0 (the index's separator before the
// id) and never a space (which separates the name tokens an entry carries).
constexpr unsigned kLowest = 0x21;
constexpr unsigned kValues = 0x100 - kLowest;

constexpr std::size_t kBlock = 16;

}  // namespace

// The context is set up once. CBC carries its chain from one call to the
// next (the last block out), and setting the IV back to zero for every term
// cost more than hashing it (OpenSSL 3 looks the IV's length up by name on
// every init); instead the first block in is XORed with that last block,
// which cancels it: the cipher sees exactly what a zero IV would give it.
struct PrefixHash::Ctx {
  EVP_CIPHER_CTX* cipher = nullptr;
  std::vector<std::uint8_t> in, out;    // reused: one block per term byte, plus the domain's
  std::array<std::uint8_t, kBlock> chain{};  // the context's CBC state: the last block it put out
  // Short terms' forms: `key` is 1 (taken) | domain | length | the term's
  // bytes (MemoKey), 0 for an empty slot.
  struct Memo {
    std::uint64_t key = 0;
    std::array<char, 2 * kMemoBytes> form{};
  };
  std::array<Memo, kMemoSlots> memo{};
  ~Ctx() { EVP_CIPHER_CTX_free(cipher); }
};

namespace {

static_assert(PrefixHash::kMemoBytes <= 4 && (PrefixHash::kMemoSlots & (PrefixHash::kMemoSlots - 1)) == 0);

std::uint64_t MemoKey(std::uint8_t domain, std::string_view term) {
  std::uint64_t key = (std::uint64_t{1} << 48) | (std::uint64_t{domain} << 40) | (std::uint64_t{term.size()} << 32);
  for (std::size_t i = 0; i < term.size(); ++i) key |= std::uint64_t{static_cast<std::uint8_t>(term[i])} << (8 * i);
  return key;
}

std::size_t MemoSlot(std::uint64_t key) {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 54) & (PrefixHash::kMemoSlots - 1);
}

}  // namespace

PrefixHash::PrefixHash(const SecretKey& key) : ctx_(std::make_unique<Ctx>()) {
  ctx_->cipher = EVP_CIPHER_CTX_new();
  // With valid arguments only an allocation failure makes these fail.
  KASSA_CHECK(ctx_->cipher != nullptr &&
              EVP_EncryptInit_ex(ctx_->cipher, EVP_aes_256_cbc(), nullptr, key.data(), ctx_->chain.data()) == 1);
  EVP_CIPHER_CTX_set_padding(ctx_->cipher, 0);
}

PrefixHash::~PrefixHash() {
  Wipe(ctx_->in.data(), ctx_->in.size());
  Wipe(ctx_->out.data(), ctx_->out.size());
  Wipe(ctx_->chain.data(), ctx_->chain.size());
  Wipe(reinterpret_cast<std::uint8_t*>(ctx_->memo.data()), sizeof(ctx_->memo));
}

std::string PrefixHash::Apply(std::uint8_t domain, std::string_view term) const {
  if (term.size() > kMaxTermBytes) term = term.substr(0, kMaxTermBytes);
  const std::size_t blocks = 1 + term.size();
  std::lock_guard lock(mutex_);
  Ctx::Memo* memo = nullptr;
  std::uint64_t memo_key = 0;
  if (term.size() <= kMemoBytes) {
    memo_key = MemoKey(domain, term);
    memo = &ctx_->memo[MemoSlot(memo_key)];
    if (memo->key == memo_key) return std::string(memo->form.data(), 2 * term.size());
  }
  auto& in = ctx_->in;
  auto& out = ctx_->out;
  in.assign(blocks * kBlock, 0);
  out.resize(blocks * kBlock);
  // Block 0 is the domain; block i+1 carries term byte i and its position.
  in[0] = domain;
  in[1] = 0xD0;
  for (std::size_t i = 0; i < term.size(); ++i) {
    in[(i + 1) * kBlock] = static_cast<std::uint8_t>(term[i]);
    in[(i + 1) * kBlock + 1] = static_cast<std::uint8_t>(i);
  }
  for (std::size_t i = 0; i < kBlock; ++i) in[i] ^= ctx_->chain[i];
  int n = 0;
  KASSA_CHECK(EVP_EncryptUpdate(ctx_->cipher, out.data(), &n, in.data(), static_cast<int>(in.size())) == 1 &&
              static_cast<std::size_t>(n) == in.size());
  std::copy(out.end() - kBlock, out.end(), ctx_->chain.begin());
  std::string form(2 * term.size(), '\0');
  for (std::size_t i = 0; i < term.size(); ++i) {
    const std::uint8_t* c = out.data() + (i + 1) * kBlock;
    form[2 * i] = static_cast<char>(kLowest + c[0] % kValues);
    form[2 * i + 1] = static_cast<char>(kLowest + c[1] % kValues);
  }
  if (memo != nullptr) {
    memo->key = memo_key;
    std::copy(form.begin(), form.end(), memo->form.begin());
  }
  return form;
}

}  // namespace kassa::crypto
