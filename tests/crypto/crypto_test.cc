// Encryption at rest's building blocks: the AEAD seal, the index terms'
// keyed prefix hash, and the master key's file.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "kassa/crypto/aead.h"
#include "kassa/crypto/key_store.h"
#include "kassa/crypto/prefix_hash.h"
#include "kassa/crypto/sha256.h"
#include "temp_dir.h"

namespace kassa::crypto {
namespace {

SecretKey Key() { return *SecretKey::Random(); }

TEST(AeadTest, OpensWhatItSealedWithBothAlgorithmsAndNothingElse) {
  const SecretKey key = Key();
  const Bytes aad = {1, 2, 3};
  const std::string text = "Anna Bērziņa, anna@example.com";
  for (const AeadAlgorithm a : {AeadAlgorithm::kAes256Gcm, AeadAlgorithm::kChaCha20Poly1305}) {
    auto sealed = Seal(key, aad, AsBytes(text), a);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), text.size() + kSealOverhead);
    EXPECT_EQ((*sealed)[0], static_cast<std::uint8_t>(a));
    EXPECT_EQ(std::string(AsChars(*sealed)).find("Anna"), std::string::npos);
    auto plain = Open(key, aad, *sealed);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(std::string(AsChars(*plain)), text);
    // Another key, other associated data, a flipped bit, a cut: refused.
    EXPECT_EQ(Open(Key(), aad, *sealed).status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(Open(key, Bytes{1, 2, 4}, *sealed).status().code(), StatusCode::kDataLoss);
    Bytes flipped = *sealed;
    flipped[kSealOverhead / 2 + 3] ^= 0x01;
    EXPECT_EQ(Open(key, aad, flipped).status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(Open(key, aad, ByteView(*sealed).subspan(0, 10)).status().code(), StatusCode::kDataLoss);
  }
  // Into one buffer, over and over: a shorter value after a longer one is
  // exactly its own text, and a refused one leaves the buffer empty.
  Bytes buffer;
  const std::string short_text = "Ozola";
  ASSERT_TRUE(OpenInto(key, aad, *Seal(key, aad, AsBytes(text)), buffer).ok());
  EXPECT_EQ(std::string(AsChars(buffer)), text);
  ASSERT_TRUE(OpenInto(key, aad, *Seal(key, aad, AsBytes(short_text)), buffer).ok());
  EXPECT_EQ(std::string(AsChars(buffer)), short_text);
  EXPECT_EQ(OpenInto(Key(), aad, *Seal(key, aad, AsBytes(text)), buffer).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(buffer.empty());
  // Two seals of the same text differ (a fresh nonce each time).
  EXPECT_NE(*Seal(key, aad, AsBytes(text)), *Seal(key, aad, AsBytes(text)));
  Bytes unknown = *Seal(key, aad, AsBytes(text));
  unknown[0] = 9;
  EXPECT_EQ(Open(key, aad, unknown).status().code(), StatusCode::kDataLoss);
}

// The contexts kept with their keys' schedules: values sealed in turn under
// more keys than there are contexts, with both algorithms, each open with
// its own key only, and the ciphertext is that of a context set up anew.
TEST(AeadTest, SealingUnderManyKeysInTurnUsesEachKey) {
  std::vector<SecretKey> keys;
  for (int i = 0; i < 5; ++i) keys.push_back(Key());
  const Bytes aad = {7};
  for (int round = 0; round < 40; ++round) {
    const std::size_t k = static_cast<std::size_t>(round * 7 % 5);
    // Keys used often and seldom, as the master key and customers' keys are.
    for (const std::size_t which : {k, std::size_t{0}, k, std::size_t{1}}) {
      const AeadAlgorithm a = round % 3 == 0 ? AeadAlgorithm::kChaCha20Poly1305 : AeadAlgorithm::kAes256Gcm;
      const std::string text = "value " + std::to_string(round) + " under key " + std::to_string(which);
      const auto sealed = Seal(keys[which], aad, AsBytes(text), a);
      ASSERT_TRUE(sealed.ok());
      for (std::size_t other = 0; other < keys.size(); ++other) {
        const auto plain = Open(keys[other], aad, *sealed);
        if (other == which) {
          ASSERT_TRUE(plain.ok()) << round;
          EXPECT_EQ(std::string(AsChars(*plain)), text);
        } else {
          EXPECT_EQ(plain.status().code(), StatusCode::kDataLoss) << round << " " << which << " " << other;
        }
      }
    }
  }
}

TEST(RandomBytesTest, NoncesNeverRepeatAcrossThreadsOrSizes) {
  std::set<std::array<std::uint8_t, 12>> seen;
  std::mutex m;
  const auto draw = [&] {
    for (int i = 0; i < 20'000; ++i) {
      std::array<std::uint8_t, 12> nonce{};
      ASSERT_TRUE(RandomBytes(nonce).ok());
      std::lock_guard<std::mutex> lock(m);
      EXPECT_TRUE(seen.insert(nonce).second);
    }
  };
  std::thread other(draw);
  draw();
  other.join();
  EXPECT_EQ(seen.size(), 40'000u);
  // Past the pool's request size, and an odd size that leaves a remainder.
  std::array<std::uint8_t, 200> big{};
  std::array<std::uint8_t, 200> big2{};
  ASSERT_TRUE(RandomBytes(big).ok());
  ASSERT_TRUE(RandomBytes(big2).ok());
  EXPECT_NE(big, big2);
  std::array<std::uint8_t, 61> odd{};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(RandomBytes(odd).ok());
}

// A forked child draws bytes of its own, not the rest of its parent's pool.
TEST(RandomBytesTest, AForkedChildDoesNotRepeatItsParent) {
  std::array<std::uint8_t, 16> first{};
  ASSERT_TRUE(RandomBytes(first).ok());  // the pool is filled
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::array<std::uint8_t, 16> mine{};
    const bool ok = RandomBytes(mine).ok();
    const ssize_t n = ok ? write(fds[1], mine.data(), mine.size()) : -1;
    _exit(n == static_cast<ssize_t>(mine.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::array<std::uint8_t, 16> parents{};
  ASSERT_TRUE(RandomBytes(parents).ok());
  std::array<std::uint8_t, 16> childs{};
  EXPECT_EQ(read(fds[0], childs.data(), childs.size()), static_cast<ssize_t>(childs.size()));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(parents, childs);
}

TEST(PrefixHashTest, KeepsPrefixesAndEqualityButNotTheText) {
  const PrefixHash h(Key());
  const std::string anderson = h.Apply(1, "anderson");
  EXPECT_EQ(anderson.size(), 16u);
  EXPECT_EQ(h.Apply(1, "anderson"), anderson);
  EXPECT_TRUE(anderson.starts_with(h.Apply(1, "and")));
  EXPECT_FALSE(anderson.starts_with(h.Apply(1, "anb")));
  EXPECT_NE(h.Apply(2, "anderson"), anderson);  // another index kind
  EXPECT_NE(PrefixHash(Key()).Apply(1, "anderson"), anderson);  // another store
  EXPECT_EQ(anderson.find("and"), std::string::npos);
  for (const char c : anderson) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x21u);  // never the separators 0 and space
  }
  EXPECT_EQ(h.Apply(1, std::string(1000, 'x')).size(), 2 * PrefixHash::kMaxTermBytes);
  EXPECT_EQ(h.Apply(1, ""), "");
  // Different one-byte terms rarely share a form: 10,000 distinct 4-byte
  // terms, no collision expected at 1/223^2 per pair of siblings.
  std::set<std::string> forms;
  for (int i = 0; i < 10000; ++i) forms.insert(h.Apply(3, std::to_string(1000 + i)));
  EXPECT_GE(forms.size(), 9990u);
}

// Stores hold the forms written by earlier versions: the form of a term
// under a given key never changes, whatever was hashed before it on the
// same object (the CBC chain the object carries from call to call).
TEST(PrefixHashTest, FormsAreFixedForAKeyWhateverCameBefore) {
  std::array<std::uint8_t, SecretKey::kBytes> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  const SecretKey key{ByteView(bytes)};
  const auto hex = [](const std::string& s) {
    std::string out;
    for (const char c : s) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += kDigits[static_cast<unsigned char>(c) >> 4];
      out += kDigits[static_cast<unsigned char>(c) & 0xF];
    }
    return out;
  };
  // Made by the version that set a zero IV before every term (session 9's).
  constexpr std::string_view kBerzina = "a1fb3bc59ad1c7a43e36cae5924591ccf424";
  constexpr std::string_view kEmail = "f99d67d0983bef73d941e7f7769cd07cd83dcb83215357934c59fb738fb5f7f3";
  const PrefixHash fresh(key);
  EXPECT_EQ(hex(fresh.Apply(1, "bērziņa")), kBerzina);
  const PrefixHash used(key);
  for (int i = 0; i < 100; ++i) used.Apply(static_cast<std::uint8_t>(i % 5), std::string(static_cast<std::size_t>(i % 17), 'q'));
  EXPECT_EQ(hex(used.Apply(3, "anna@example.com")), kEmail);
  EXPECT_EQ(hex(used.Apply(1, "bērziņa")), kBerzina);
  EXPECT_EQ(hex(fresh.Apply(3, "anna@example.com")), kEmail);
}

// Short terms' forms come from a memo after their first time. Each must be
// the form computed anew: the start of the form of a longer term (which no
// memo holds), whichever terms shared its memo slot before (20,000 of them
// over 1,024 slots: every slot taken many times over).
TEST(PrefixHashTest, RememberedShortFormsAreTheFormsComputedAnew) {
  const PrefixHash h(Key());
  std::vector<std::pair<std::uint8_t, std::string>> terms;
  for (int i = 0; i < 20000; ++i) {
    std::string t = std::to_string(100000 + i * 7919 % 100000);
    t.resize(1 + static_cast<std::size_t>(i) % PrefixHash::kMemoBytes);
    terms.emplace_back(static_cast<std::uint8_t>(1 + i % 6), std::move(t));
  }
  for (int pass = 0; pass < 3; ++pass) {  // the first fills the memo, the others read it
    for (const auto& [domain, t] : terms) {
      const std::string form = h.Apply(domain, t);
      ASSERT_EQ(form.size(), 2 * t.size());
      ASSERT_EQ(h.Apply(domain, t + "-longer").substr(0, form.size()), form) << int{domain} << " " << t;
    }
  }
}

TEST(FileKeyStoreTest, CreatedOnceAs0600RefusedWhenOthersCanReadOrInsideTheData) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/terminal";
  std::filesystem::create_directories(data);
  const std::string path = dir.path() + "/terminal.key";
  auto first = FileKeyStore::Open(path, data);
  ASSERT_TRUE(first.ok()) << first.status().detail();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const MasterKey k1 = *(*first)->Current();
  EXPECT_EQ(k1.generation, 1u);
  // Another start reads the same key.
  auto again = FileKeyStore::Open(path, data);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(std::equal(k1.key.view().begin(), k1.key.view().end(), (*again)->Current()->key.view().begin()));
  EXPECT_EQ((*again)->Find(2).status().code(), StatusCode::kNotFound);

  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(FileKeyStore::Open(path, data).status().code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(FileKeyStore::Open(data + "/master.key", data).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FileKeyStore::Open(dir.path() + "/no/such/dir/key", data).status().code(), StatusCode::kUnavailable);
  {
    std::ofstream damaged(path, std::ios::trunc);
    damaged << "kassa master key v1\n1 nothex\n";
  }
  EXPECT_EQ(FileKeyStore::Open(path, data).status().code(), StatusCode::kInvalidArgument);
  // The 32-byte device secret of earlier releases is generation 1.
  {
    std::ofstream legacy(path, std::ios::trunc | std::ios::binary);
    legacy << std::string(32, '\x5a');
  }
  auto old = FileKeyStore::Open(path, data);
  ASSERT_TRUE(old.ok()) << old.status().detail();
  EXPECT_EQ((*old)->Current()->key.view()[0], 0x5a);
}

// Two processes starting at once (kassa-hq and a `kassa-hq pki` command)
// must end with one key between them, never each its own.
TEST(FileKeyStoreTest, TwoCreatingAtOnceGetTheSameKey) {
  testing::TempDir dir;
  for (int round = 0; round < 50; ++round) {
    const std::string path = dir.path() + "/k" + std::to_string(round) + ".key";
    Result<std::unique_ptr<FileKeyStore>> a = Status(StatusCode::kInternal, "not run");
    Result<std::unique_ptr<FileKeyStore>> b = Status(StatusCode::kInternal, "not run");
    std::thread other([&] { b = FileKeyStore::Open(path, dir.path() + "/data"); });
    a = FileKeyStore::Open(path, dir.path() + "/data");
    other.join();
    ASSERT_TRUE(a.ok() && b.ok()) << round;
    const MasterKey ka = *(*a)->Current(), kb = *(*b)->Current();
    ASSERT_TRUE(std::equal(ka.key.view().begin(), ka.key.view().end(), kb.key.view().begin())) << round;
    auto again = FileKeyStore::Open(path, dir.path() + "/data");
    ASSERT_TRUE(again.ok());
    const MasterKey on_disk = *(*again)->Current();
    ASSERT_TRUE(std::equal(ka.key.view().begin(), ka.key.view().end(), on_disk.key.view().begin())) << round;
  }
}

}  // namespace
}  // namespace kassa::crypto
