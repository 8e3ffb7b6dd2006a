#include "layout_fixtures.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

#include "kassa/base/bytes.h"
#include "kassa/crypto/aead.h"
#include "kassa/model/customer.h"

namespace kassa::storage {

namespace {

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every value of table `dbi` replaced by what `rewrite` makes of it (all
// read first: a cursor that rewrites values of another size in place can
// lose its position when a page is rebalanced).
template <typename Rewrite>
void RewriteValues(MDB_txn* txn, MDB_dbi dbi, Rewrite rewrite) {
  std::vector<std::pair<std::string, std::string>> rewritten;
  MDB_cursor* cursor = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn, dbi, &cursor), 0);
  MDB_val k{}, v{};
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    std::string key(static_cast<const char*>(k.mv_data), k.mv_size);
    std::string value = rewrite(key, std::string(static_cast<const char*>(v.mv_data), v.mv_size));
    rewritten.emplace_back(std::move(key), std::move(value));
  }
  mdb_cursor_close(cursor);
  for (auto& [key, value] : rewritten) {
    MDB_val nk{key.size(), key.data()}, nv{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, dbi, &nk, &nv, 0), 0);
  }
}

}  // namespace

RawStore::RawStore(const std::string& dir) {
  EXPECT_EQ(mdb_env_create(&env_), 0);
  EXPECT_EQ(mdb_env_set_maxdbs(env_, 16), 0);
  EXPECT_EQ(mdb_env_open(env_, dir.c_str(), 0, 0600), 0);
  EXPECT_EQ(mdb_txn_begin(env_, nullptr, 0, &txn_), 0);
}

RawStore::~RawStore() {
  EXPECT_EQ(mdb_txn_commit(txn_), 0);
  mdb_env_close(env_);
}

MDB_dbi RawStore::Dbi(const char* name, unsigned flags) const {
  MDB_dbi dbi = 0;
  EXPECT_EQ(mdb_dbi_open(txn_, name, flags, &dbi), 0) << name;
  return dbi;
}

void RawStore::Stamp(std::string layout) const {
  std::string key = "schema_version";
  MDB_val k{key.size(), key.data()}, v{layout.size(), layout.data()};
  EXPECT_EQ(mdb_put(txn_, Dbi("meta"), &k, &v, 0), 0);
}

std::string RawStore::Layout() const {
  std::string key = "schema_version";
  MDB_val k{key.size(), key.data()}, v{};
  if (mdb_get(txn_, Dbi("meta"), &k, &v) != 0) return "";
  return std::string(static_cast<const char*>(v.mv_data), v.mv_size);
}

std::string RawStore::Dump() const {
  std::string out;
  const auto dump = [&](MDB_dbi dbi, std::vector<std::string>* names) {
    MDB_cursor* cursor = nullptr;
    EXPECT_EQ(mdb_cursor_open(txn_, dbi, &cursor), 0);
    MDB_val k{}, v{};
    for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
      const std::string key(static_cast<const char*>(k.mv_data), k.mv_size);
      if (names != nullptr) names->push_back(key);
      out += std::to_string(k.mv_size) + ":" + key + "=" + std::to_string(v.mv_size) + ":" +
             std::string(static_cast<const char*>(v.mv_data), v.mv_size) + "\n";
    }
    mdb_cursor_close(cursor);
  };
  MDB_dbi main = 0;
  EXPECT_EQ(mdb_dbi_open(txn_, nullptr, 0, &main), 0);
  std::vector<std::string> names;  // the main table holds the named tables
  dump(main, &names);
  for (const std::string& name : names) {
    out += "[" + name + "]\n";
    dump(Dbi(name.c_str()), nullptr);
  }
  return out;
}

void DowngradeToLayout12(const std::string& dir) {
  const RawStore raw(dir);
  // Layout 13 keeps the recent index in the outbox: records under sequence
  // (8) | number (8), its state under RecentIndex::kStateKey (UINT64_MAX - 1):
  // first (8) | customers (8) | next (8) | version (8). Layout 12 kept the
  // records in index_recent under sequence (8) and the version under UINT64_MAX.
  const MDB_dbi outbox = raw.Dbi("outbox");
  std::string state_key(8, '\xFF');
  state_key[7] = '\xFE';
  MDB_val sk{state_key.size(), state_key.data()}, sv{};
  ASSERT_EQ(mdb_get(raw.txn(), outbox, &sk, &sv), 0) << "a store of layout 13 has the recent index's state";
  ASSERT_EQ(sv.mv_size, 32u);
  std::string version(static_cast<const char*>(sv.mv_data) + 24, 8);
  std::vector<std::pair<std::string, std::string>> records;
  MDB_cursor* cursor = nullptr;
  ASSERT_EQ(mdb_cursor_open(raw.txn(), outbox, &cursor), 0);
  MDB_val k{}, v{};
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    if (k.mv_size != 16) continue;
    records.emplace_back(std::string(static_cast<const char*>(k.mv_data), k.mv_size),
                         std::string(static_cast<const char*>(v.mv_data), v.mv_size));
  }
  mdb_cursor_close(cursor);
  const MDB_dbi recent = raw.Dbi("index_recent", MDB_CREATE);
  std::uint64_t seq = 0;
  for (auto& [key, value] : records) {
    MDB_val dk{key.size(), key.data()};
    ASSERT_EQ(mdb_del(raw.txn(), outbox, &dk, nullptr), 0);
    std::string old_key(8, '\0');
    ++seq;
    for (int i = 0; i < 8; ++i) old_key[static_cast<std::size_t>(7 - i)] = static_cast<char>((seq >> (8 * i)) & 0xFF);
    MDB_val ok{old_key.size(), old_key.data()}, ov{value.size(), value.data()};
    ASSERT_EQ(mdb_put(raw.txn(), recent, &ok, &ov, 0), 0);
  }
  ASSERT_EQ(mdb_del(raw.txn(), outbox, &sk, nullptr), 0);
  std::string version_key(8, '\xFF');
  MDB_val vk{version_key.size(), version_key.data()}, vv{version.size(), version.data()};
  ASSERT_EQ(mdb_put(raw.txn(), recent, &vk, &vv, 0), 0);
  raw.Stamp("12");
}

void DowngradeToLayout11(const std::string& dir) {
  DowngradeToLayout12(dir);
  const RawStore raw(dir);
  // The outbox's tail record (terminal::kOutboxTailKey): next sequence (8) |
  // pending customers (8), both big-endian, as layout 11 kept them in meta.
  const MDB_dbi outbox = raw.Dbi("outbox");
  std::string tail_key(8, '\xFF');
  MDB_val tk{tail_key.size(), tail_key.data()}, tv{};
  ASSERT_EQ(mdb_get(raw.txn(), outbox, &tk, &tv), 0) << "a store of layout 12 has the outbox's tail record";
  ASSERT_EQ(tv.mv_size, 16u);
  const std::string tail(static_cast<const char*>(tv.mv_data), tv.mv_size);
  const MDB_dbi meta = raw.Dbi("meta");
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"outbox_next_seq", tail.substr(0, 8)},
                                    std::pair<std::string, std::string>{"pending_customers", tail.substr(8, 8)}}) {
    MDB_val k{name.size(), const_cast<char*>(name.data())}, v{value.size(), const_cast<char*>(value.data())};
    ASSERT_EQ(mdb_put(raw.txn(), meta, &k, &v, 0), 0);
  }
  ASSERT_EQ(mdb_del(raw.txn(), outbox, &tk, nullptr), 0);
  raw.Stamp("11");
}

void DowngradeToLayout10(const std::string& dir) {
  DowngradeToLayout11(dir);
  const RawStore raw(dir);
  const std::string version(8, '\xFF');  // RecentIndex::kVersionKey, big-endian
  MDB_val key{version.size(), const_cast<char*>(version.data())};
  ASSERT_EQ(mdb_del(raw.txn(), raw.Dbi("index_recent"), &key, nullptr), 0);
  raw.Stamp("10");
}

void DowngradeToLayout9(const std::string& dir) {
  DowngradeToLayout10(dir);
  const RawStore raw(dir);
  const std::string version(1, '\0');  // HeadsCache::kVersionKey
  MDB_val key{version.size(), const_cast<char*>(version.data())};
  ASSERT_EQ(mdb_del(raw.txn(), raw.Dbi("index_heads"), &key, nullptr), 0);
  raw.Stamp("9");
}

void DowngradeToLayout8(const std::string& dir) {
  DowngradeToLayout9(dir);
  const RawStore raw(dir);
  ASSERT_EQ(mdb_drop(raw.txn(), raw.Dbi("index_heads"), 1), 0);
  raw.Stamp("8");
}

void DowngradeToLayout7(const std::string& dir) {
  DowngradeToLayout8(dir);
  const RawStore raw(dir);
  // Layout 7 folded names with a table of its own; its name entries are not
  // rebuilt here but dropped: the upgrade must derive every one again.
  MDB_txn* txn = raw.txn();
  const MDB_dbi index = raw.Dbi("index");
  MDB_cursor* cursor = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn, index, &cursor), 0);
  std::vector<std::string> names;
  MDB_val k{}, v{};
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    if (k.mv_size > 0 && static_cast<const std::uint8_t*>(k.mv_data)[0] == 1) {  // search::IndexKind::kName
      names.emplace_back(static_cast<const char*>(k.mv_data), k.mv_size);
    }
  }
  mdb_cursor_close(cursor);
  for (auto& key : names) {
    MDB_val dk{key.size(), key.data()};
    ASSERT_EQ(mdb_del(txn, index, &dk, nullptr), 0);
  }
  std::size_t dropped = names.size();
  // index_recent: id (16), then (length (2) | key | length (2) | value)*;
  // a customer's name entries left out.
  RewriteValues(txn, raw.Dbi("index_recent"), [&](const std::string&, const std::string& value) {
    std::string kept = value.substr(0, 16);
    for (std::size_t at = 16; at + 2 <= value.size();) {
      const auto length = [&](std::size_t i) {
        return (std::size_t{static_cast<std::uint8_t>(value[i])} << 8) | static_cast<std::uint8_t>(value[i + 1]);
      };
      const std::size_t key_length = length(at);
      const std::size_t value_at = at + 2 + key_length;
      const std::size_t end = value_at + 2 + length(value_at);
      if (key_length > 0 && static_cast<std::uint8_t>(value[at + 2]) == 1) {
        ++dropped;
      } else {
        kept += value.substr(at, end - at);
      }
      at = end;
    }
    return kept;
  });
  EXPECT_GT(dropped, 0u) << "the store had no name entries to drop";
  raw.Stamp("7");
}

void DowngradeToLayout6(const std::string& dir, const crypto::MasterKey& master) {
  DowngradeToLayout7(dir);
  const std::string slots = FileBytes(dir + ".slots");
  const auto be32 = [](std::uint32_t v) {
    return Bytes{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                 static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  };
  const auto label = [&](ByteView name) {
    Bytes aad{'k', 'a', 's', 's', 'a', ' ', 'k', 'e', 'y'};
    aad.insert(aad.end(), name.begin(), name.end());
    const Bytes g = be32(master.generation);
    aad.insert(aad.end(), g.begin(), g.end());
    return aad;
  };
  {
    const RawStore raw(dir);
    const MDB_dbi keys = raw.Dbi("keys");
    std::string slots_name = "slots";
    MDB_val k{slots_name.size(), slots_name.data()}, v{};
    ASSERT_EQ(mdb_get(raw.txn(), keys, &k, &v), 0);
    const Bytes binding(static_cast<const std::uint8_t*>(v.mv_data), static_cast<const std::uint8_t*>(v.mv_data) + 16);
    ASSERT_EQ(mdb_del(raw.txn(), keys, &k, nullptr), 0);
    // Each value that names a slot (a record, or a key of "keys"): the slot's
    // key, wrapped as layout 6 did, in place of the slot's number.
    const auto downgrade = [&](MDB_dbi dbi) {
      MDB_cursor* cursor = nullptr;
      ASSERT_EQ(mdb_cursor_open(raw.txn(), dbi, &cursor), 0);
      std::vector<std::pair<Bytes, Bytes>> rewritten;
      MDB_val ck{}, cv{};
      for (int rc = mdb_cursor_get(cursor, &ck, &cv, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &ck, &cv, MDB_NEXT)) {
        if (ck.mv_size != model::kLocalIdBytes) continue;
        const ByteView key(static_cast<const std::uint8_t*>(ck.mv_data), ck.mv_size);
        const ByteView value(static_cast<const std::uint8_t*>(cv.mv_data), cv.mv_size);
        const std::uint32_t n = std::uint32_t{value[0]} << 24 | std::uint32_t{value[1]} << 16 |
                                std::uint32_t{value[2]} << 8 | value[3];
        const auto* slot = reinterpret_cast<const std::uint8_t*>(slots.data()) + (n + 1) * 80;
        Bytes slot_name = binding;
        const Bytes nb = be32(n);
        slot_name.insert(slot_name.end(), nb.begin(), nb.end());
        auto dek = crypto::Open(master.key, label(slot_name), ByteView(slot + 4, 61));
        ASSERT_TRUE(dek.ok()) << "slot " << n;
        auto wrapped = crypto::Seal(master.key, label(key), *dek);
        Bytes old_form = be32(master.generation);
        old_form.insert(old_form.end(), wrapped->begin(), wrapped->end());
        old_form.insert(old_form.end(), value.begin() + 4, value.end());
        rewritten.emplace_back(Bytes(key.begin(), key.end()), std::move(old_form));
      }
      mdb_cursor_close(cursor);
      for (auto& [key, value] : rewritten) {
        MDB_val wk{key.size(), key.data()}, wv{value.size(), value.data()};
        ASSERT_EQ(mdb_put(raw.txn(), dbi, &wk, &wv, 0), 0);
      }
    };
    downgrade(raw.Dbi("customers"));
    downgrade(keys);
    raw.Stamp("6");
  }
  std::filesystem::remove(dir + ".slots");
}

void DowngradeToLayout5(const std::string& dir) {
  DowngradeToLayout8(dir);  // a plaintext store of layout 8 counts as layout 6
  const RawStore raw(dir);
  // Quarantine values without their customer's id in front.
  RewriteValues(raw.txn(), raw.Dbi("quarantine"), [](const std::string&, const std::string& v) { return v.substr(16); });
  raw.Stamp("5");
}

void DowngradeToLayout4(const std::string& dir) {
  DowngradeToLayout5(dir);
  const RawStore raw(dir);
  MDB_txn* txn = raw.txn();
  const MDB_dbi index = raw.Dbi("index"), recent = raw.Dbi("index_recent");
  MDB_cursor* cursor = nullptr;
  MDB_val k{}, v{};
  // index_recent: id (16), then (length (2) | key | length (2) | value)*
  std::vector<std::pair<std::string, std::string>> moved;
  ASSERT_EQ(mdb_cursor_open(txn, recent, &cursor), 0);
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    std::string_view rest(static_cast<const char*>(v.mv_data), v.mv_size);
    rest.remove_prefix(16);
    auto take = [&rest] {
      const std::size_t n = (std::size_t{static_cast<std::uint8_t>(rest[0])} << 8) | static_cast<std::uint8_t>(rest[1]);
      std::string part(rest.substr(2, n));
      rest.remove_prefix(2 + n);
      return part;
    };
    while (!rest.empty()) {
      std::string key = take();
      moved.emplace_back(std::move(key), take());
    }
  }
  mdb_cursor_close(cursor);
  ASSERT_EQ(mdb_drop(txn, recent, 1), 0);
  for (auto& [key, value] : moved) {
    MDB_val mk{key.size(), key.data()}, mv{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, index, &mk, &mv, 0), 0);
  }
  // Outbox values bare; outbox_refs (customer id | sequence) finds a customer's.
  const MDB_dbi refs = raw.Dbi("outbox_refs", MDB_CREATE);
  RewriteValues(txn, raw.Dbi("outbox"), [&](const std::string& key, const std::string& value) {
    std::string ref = value.substr(0, 16) + key;
    MDB_val rk{ref.size(), ref.data()}, empty{0, nullptr};
    EXPECT_EQ(mdb_put(txn, refs, &rk, &empty, 0), 0);
    return value.substr(16);
  });
  raw.Stamp("4");
}

void DowngradeToLayout3(const std::string& dir) {
  DowngradeToLayout4(dir);
  const RawStore raw(dir);
  std::string key = "pending_customers";
  MDB_val k{key.size(), key.data()};
  const int rc = mdb_del(raw.txn(), raw.Dbi("meta"), &k, nullptr);
  EXPECT_TRUE(rc == 0 || rc == MDB_NOTFOUND) << mdb_strerror(rc);
  raw.Stamp("3");
}

void DowngradeToLayout2(const std::string& dir) {
  DowngradeToLayout3(dir);
  const RawStore raw(dir);
  // Name index entries hold only the field byte, not the name's tokens.
  RewriteValues(raw.txn(), raw.Dbi("index"), [](const std::string&, const std::string& v) { return v.substr(0, 1); });
  raw.Stamp("2");
}

void DowngradeToLayout1(const std::string& dir) {
  DowngradeToLayout2(dir);
  const RawStore raw(dir);
  MDB_stat stat{};
  const MDB_dbi quarantine = raw.Dbi("quarantine");
  ASSERT_EQ(mdb_stat(raw.txn(), quarantine, &stat), 0);
  ASSERT_EQ(stat.ms_entries, 0u) << "layout 1 had no quarantine";
  ASSERT_EQ(mdb_drop(raw.txn(), quarantine, 1), 0);
  ASSERT_EQ(mdb_drop(raw.txn(), raw.Dbi("outbox_refs"), 1), 0);
  raw.Stamp("1");
}

void DowngradeTo(int layout, const std::string& dir, const crypto::MasterKey* master) {
  switch (layout) {
    case 12: return DowngradeToLayout12(dir);
    case 11: return DowngradeToLayout11(dir);
    case 10: return DowngradeToLayout10(dir);
    case 9: return DowngradeToLayout9(dir);
    case 8: return DowngradeToLayout8(dir);
    case 7: return DowngradeToLayout7(dir);
    case 6:
      ASSERT_NE(master, nullptr) << "layout 6 differs from 7 in more than the index only when sealed";
      return DowngradeToLayout6(dir, *master);
    case 5: return DowngradeToLayout5(dir);
    case 4: return DowngradeToLayout4(dir);
    case 3: return DowngradeToLayout3(dir);
    case 2: return DowngradeToLayout2(dir);
    case 1: return DowngradeToLayout1(dir);
    default: FAIL() << "no layout " << layout;
  }
}

}  // namespace kassa::storage
