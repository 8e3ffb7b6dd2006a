#pragma once

// PrefixHash: the stored form of an index term that a store can search by
// prefix without keeping the term: a keyed hash of every prefix of it.
//
// Output byte pair i (bytes 2i, 2i+1) is a keyed pseudorandom function of
// the term's first i+1 bytes (and of a domain byte: the index kind), so
//   - a prefix of a term maps to a prefix of its stored form: a prefix scan
//     of stored forms finds every term with that prefix;
//   - equal terms map to equal forms: exact lookups and uniqueness work;
//   - without the key, nothing maps back to text. What the form does show
//     is the shape of the term set: its lengths, which terms share how long
//     a prefix, and how often each occurs (docs/PRIVACY.md says so).
// Two different prefixes get the same pair with probability 1/223^2 (about
// 2^-15.6), so a match is a candidate: callers confirm it against the
// decrypted record. Output bytes are 0x21..0xFF: never 0, so a stored form
// followed by a 0 separator sorts before every longer one (exact terms
// first), and never a space, so forms join and split on spaces as terms do.
//
// The function is AES-256 in CBC mode over one block per term byte (a
// CBC-MAC's chain of intermediate values), computed in one OpenSSL call.
// Written here because no library offers a prefix-preserving keyed hash;
// the primitive is OpenSSL's.
//
// The forms of terms of kMemoBytes bytes or fewer are remembered (a
// direct-mapped table of kMemoSlots): a store asks them for the heads of
// its index (storage/src/heads_cache.h), five or six a search, and the
// same few thousand heads again and again; each costs five AES blocks.
//
// Threading: Apply() is safe from any thread (a lock around the context).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "kassa/crypto/aead.h"

namespace kassa::crypto {

class PrefixHash {
 public:
  // Terms longer than this are cut before hashing (their stored form is
  // twice as long and must fit an LMDB key with the kind and an id).
  static constexpr std::size_t kMaxTermBytes = 240;
  static constexpr std::size_t kMemoBytes = 4;
  static constexpr std::size_t kMemoSlots = 1024;

  explicit PrefixHash(const SecretKey& key);
  ~PrefixHash();
  PrefixHash(const PrefixHash&) = delete;
  PrefixHash& operator=(const PrefixHash&) = delete;

  // The stored form of `term` in `domain`: 2 bytes per byte of term.
  std::string Apply(std::uint8_t domain, std::string_view term) const;

 private:
  struct Ctx;
  mutable std::mutex mutex_;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace kassa::crypto
