#include "kassa/storage/customer_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "kassa/base/log.h"
#include "kassa/proto_codec/codec.h"
#include "lmdb_txn.h"

namespace kassa::storage {
namespace {

// Bumped when the on-disk layout changes incompatibly.
constexpr std::string_view kSchemaVersion = "1";
constexpr std::string_view kSchemaKey = "schema_version";
constexpr std::string_view kNextSeqKey = "outbox_next_seq";
constexpr std::string_view kStoreConfigKey = "store_config";
// customers, index, outbox, meta
constexpr unsigned kMaxDbs = 4;

using Key = std::string;

std::array<std::uint8_t, 8> SeqKey(std::uint64_t seq) {
  std::array<std::uint8_t, 8> key{};
  for (int i = 7; i >= 0; --i) {
    key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq & 0xFF);
    seq >>= 8;
  }
  return key;
}

std::uint64_t SeqOf(ByteView key) {
  std::uint64_t seq = 0;
  for (auto b : key) seq = (seq << 8) | b;
  return seq;
}

ByteView IdKey(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }

}  // namespace

struct CustomerStore::Impl {
  LmdbEnv env;
  MDB_dbi customers = 0;  // id (16 bytes) -> sealed Customer record
  MDB_dbi index = 0;      // kind | term | 0x00 | id -> MatchedField (1 byte)
  MDB_dbi outbox = 0;     // sequence (8 bytes, big-endian) -> sealed Operation record
  MDB_dbi meta = 0;       // name -> value (schema version, next sequence, store config)
  std::unique_ptr<RecordProtection> protection;

  // kind | stored term (no terminator): the scan prefix of a term prefix.
  Key TermPrefix(IndexKind kind, std::string_view term) {
    Key key(1, static_cast<char>(kind));
    key += protection->IndexTerm(term);
    return key;
  }
  Key EntryKey(const IndexEntry& e, const model::LocalId& id) {
    Key key = TermPrefix(e.kind, e.term);
    key += '\0';
    key.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
    return key;
  }

  Result<Bytes> SealCustomer(const model::Customer& c) {
    KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeCustomer(c));
    return protection->Seal(plain);
  }
  Result<model::Customer> OpenCustomer(ByteView sealed) {
    KASSA_TRY_ASSIGN(Bytes plain, protection->Open(sealed));
    return proto_codec::DecodeCustomer(plain);
  }
  Result<model::Operation> OpenOperation(ByteView sealed) {
    KASSA_TRY_ASSIGN(Bytes plain, protection->Open(sealed));
    return proto_codec::DecodeOperation(plain);
  }

  // Fails when a unique term (account, loyalty card) of `entries` belongs to
  // a customer other than `id`.
  Status CheckUnique(const ReadTxn& txn, const std::vector<IndexEntry>& entries, const model::LocalId& id) {
    for (const auto& e : entries) {
      if (e.kind != IndexKind::kAccount && e.kind != IndexKind::kLoyaltyCard) continue;
      Key exact = TermPrefix(e.kind, e.term);
      exact += '\0';
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(index));
      KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes(exact)));
      for (; found; ) {
        const std::string_view k = AsChars(cursor.key());
        if (k.substr(0, exact.size()) != exact) break;
        if (k.substr(exact.size()) != AsChars(IdKey(id))) {
          return e.kind == IndexKind::kAccount
                     ? Status(StatusCode::kAlreadyExists, "account: already belongs to another customer")
                     : Status(StatusCode::kAlreadyExists, "loyalty_cards: card already belongs to another customer");
        }
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    }
    return Status::Ok();
  }

  Status PutEntries(WriteTxn& txn, const std::vector<IndexEntry>& entries, const model::LocalId& id) {
    for (const auto& e : entries) {
      const std::uint8_t field = static_cast<std::uint8_t>(e.field);
      KASSA_TRY(txn.Put(index, AsBytes(EntryKey(e, id)), ByteView(&field, 1)));
    }
    return Status::Ok();
  }

  Status Append(WriteTxn& txn, ByteView sealed_op) {
    std::uint64_t next = 1;
    if (auto v = txn.Get(meta, AsBytes(kNextSeqKey)); v.ok()) {
      next = SeqOf(*v);
    } else if (v.status().code() != StatusCode::kNotFound) {
      return v.status();
    }
    const auto key = SeqKey(next);
    KASSA_TRY(txn.Put(outbox, key, sealed_op, MDB_APPEND));
    const auto after = SeqKey(next + 1);
    return txn.Put(meta, AsBytes(kNextSeqKey), after);
  }

  // Visits the index entries of `kind` whose stored term starts with
  // `prefix`, in order, until `visit` returns false.
  template <typename Visit>
  Status ForEachEntry(const ReadTxn& txn, IndexKind kind, std::string_view prefix, Visit&& visit) {
    const Key scan = TermPrefix(kind, prefix);
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(index));
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes(scan)));
    while (found) {
      const std::string_view key = AsChars(cursor.key());
      if (key.substr(0, scan.size()) != scan) break;
      if (key.size() < 1 + 1 + model::kLocalIdBytes || cursor.value().size() != 1) {
        return Status(StatusCode::kDataLoss, "storage corrupted: malformed index entry");
      }
      if (!visit(key, cursor.value()[0])) break;
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return Status::Ok();
  }

  Result<std::vector<OutboxEntry>> ReadOutbox(const ReadTxn& txn, std::size_t max) {
    std::vector<OutboxEntry> entries;
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(outbox));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found && entries.size() < max) {
      KASSA_TRY_ASSIGN(model::Operation op, OpenOperation(cursor.value()));
      entries.push_back({SeqOf(cursor.key()), std::move(op)});
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return entries;
  }

  Result<Bytes> SealOperation(const model::Operation* op) {
    if (op == nullptr) return Bytes();
    KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeOperation(*op));
    return protection->Seal(plain);
  }
};

CustomerStore::CustomerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CustomerStore::~CustomerStore() = default;

Result<std::unique_ptr<CustomerStore>> CustomerStore::Open(const StorageOptions& options,
                                                           std::unique_ptr<RecordProtection> protection) {
  struct stat st {};
  if (::stat(options.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    KASSA_LOG(kError) << "data directory " << options.path << " does not exist";
    return Status(StatusCode::kUnavailable, "data: the data directory does not exist");
  }
  KASSA_TRY_ASSIGN(LmdbEnv env, LmdbEnv::Open(options.path, options.map_size_bytes, kMaxDbs));
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(env), 0, 0, 0, 0, std::move(protection)});
  KASSA_TRY(Update(impl->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "customers", MDB_CREATE, &impl->customers), "dbi customers"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "index", MDB_CREATE, &impl->index), "dbi index"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "outbox", MDB_CREATE, &impl->outbox), "dbi outbox"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &impl->meta), "dbi meta"));
    auto schema = txn.Get(impl->meta, AsBytes(kSchemaKey));
    if (schema.ok()) {
      if (AsChars(*schema) != kSchemaVersion) {
        return Status(StatusCode::kFailedPrecondition, "data: written by an incompatible kassa version");
      }
      return Status::Ok();
    }
    if (schema.status().code() != StatusCode::kNotFound) return schema.status();
    return txn.Put(impl->meta, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
  }));
  return std::unique_ptr<CustomerStore>(new CustomerStore(std::move(impl)));
}

Status CustomerStore::Create(const model::Customer& customer, const model::Operation* op) {
  // Encode and seal before the transaction: the write lock is held only for puts.
  KASSA_TRY_ASSIGN(const Bytes record, impl_->SealCustomer(customer));
  KASSA_TRY_ASSIGN(const Bytes sealed_op, impl_->SealOperation(op));
  const std::vector<IndexEntry> entries = IndexEntriesOf(customer);
  return Update(impl_->env, [&](WriteTxn& txn) -> Status {
    const Status put = txn.Put(impl_->customers, IdKey(customer.id), record, MDB_NOOVERWRITE);
    if (put.code() == StatusCode::kAlreadyExists) {
      return Status(StatusCode::kAlreadyExists, "id: a customer with this id exists");
    }
    KASSA_TRY(put);
    KASSA_TRY(impl_->CheckUnique(txn, entries, customer.id));
    KASSA_TRY(impl_->PutEntries(txn, entries, customer.id));
    if (op != nullptr) KASSA_TRY(impl_->Append(txn, sealed_op));
    return Status::Ok();
  });
}

Status CustomerStore::Replace(const model::Customer& customer, std::uint32_t expected_version,
                              const model::Operation* op) {
  KASSA_TRY_ASSIGN(const Bytes record, impl_->SealCustomer(customer));
  KASSA_TRY_ASSIGN(const Bytes sealed_op, impl_->SealOperation(op));
  const std::vector<IndexEntry> entries = IndexEntriesOf(customer);
  return Update(impl_->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const ByteView old_record, txn.Get(impl_->customers, IdKey(customer.id)));
    KASSA_TRY_ASSIGN(const model::Customer old, impl_->OpenCustomer(old_record));
    if (old.version != expected_version) {
      return Status(StatusCode::kAborted,
                    "version: the customer was changed by someone else; reload it and edit again");
    }
    for (const auto& e : IndexEntriesOf(old)) {
      KASSA_TRY(txn.Del(impl_->index, AsBytes(impl_->EntryKey(e, old.id))));
    }
    KASSA_TRY(impl_->CheckUnique(txn, entries, customer.id));
    KASSA_TRY(impl_->PutEntries(txn, entries, customer.id));
    KASSA_TRY(txn.Put(impl_->customers, IdKey(customer.id), record));
    if (op != nullptr) KASSA_TRY(impl_->Append(txn, sealed_op));
    return Status::Ok();
  });
}

Result<model::Customer> CustomerStore::Get(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));
  KASSA_TRY_ASSIGN(const ByteView record, txn.Get(impl_->customers, IdKey(id)));
  return impl_->OpenCustomer(record);  // copies out before `txn` closes
}

Result<std::vector<model::Customer>> CustomerStore::GetMany(const std::vector<model::LocalId>& ids) {
  std::vector<model::Customer> customers;
  customers.reserve(ids.size());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));
  for (const auto& id : ids) {
    KASSA_TRY_ASSIGN(const ByteView record, txn.Get(impl_->customers, IdKey(id)));
    KASSA_TRY_ASSIGN(model::Customer c, impl_->OpenCustomer(record));
    customers.push_back(std::move(c));
  }
  return customers;
}

Result<std::vector<IndexHit>> CustomerStore::ScanPrefix(IndexKind kind, std::string_view prefix,
                                                        std::size_t limit) {
  std::vector<IndexHit> hits;
  if (limit == 0) return hits;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));
  KASSA_TRY(impl_->ForEachEntry(txn, kind, prefix, [&](std::string_view key, std::uint8_t field) {
    IndexHit hit;
    std::copy_n(key.end() - model::kLocalIdBytes, model::kLocalIdBytes, hit.id.bytes.begin());
    hit.term = std::string(key.substr(1, key.size() - 2 - model::kLocalIdBytes));
    hit.field = static_cast<MatchedField>(field);
    hits.push_back(std::move(hit));
    return hits.size() < limit;
  }));
  return hits;
}

Result<std::vector<OutboxEntry>> CustomerStore::PeekOutbox(std::size_t max) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));
  return impl_->ReadOutbox(txn, max);
}

Result<StoreStats> CustomerStore::Stats() {
  StoreStats stats;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));
  KASSA_TRY_ASSIGN(stats.customers, txn.Count(impl_->customers));
  KASSA_TRY_ASSIGN(stats.outbox_length, txn.Count(impl_->outbox));
  KASSA_TRY(impl_->ForEachEntry(txn, IndexKind::kPending, "", [&](std::string_view, std::uint8_t) {
    ++stats.pending_customers;
    return true;
  }));
  KASSA_TRY_ASSIGN(auto oldest, impl_->ReadOutbox(txn, 1));
  if (!oldest.empty()) stats.oldest = std::move(oldest.front());
  MDB_envinfo info{};
  MDB_stat env_stat{};
  KASSA_TRY(FromMdb(mdb_env_info(impl_->env.get(), &info), "env_info"));
  KASSA_TRY(FromMdb(mdb_env_stat(impl_->env.get(), &env_stat), "env_stat"));
  stats.map_size_bytes = info.me_mapsize;
  stats.used_bytes = (info.me_last_pgno + 1) * static_cast<std::uint64_t>(env_stat.ms_psize);
  return stats;
}

Result<std::optional<model::StoreConfig>> CustomerStore::LoadStoreConfig() {
  Bytes plain;
  {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));
    auto sealed = txn.Get(impl_->meta, AsBytes(kStoreConfigKey));
    if (!sealed.ok()) {
      if (sealed.status().code() == StatusCode::kNotFound) return std::optional<model::StoreConfig>();
      return sealed.status();
    }
    KASSA_TRY_ASSIGN(plain, impl_->protection->Open(*sealed));
  }
  KASSA_TRY_ASSIGN(model::StoreConfig config, proto_codec::DecodeStoreConfig(plain));
  return std::optional<model::StoreConfig>(std::move(config));
}

Status CustomerStore::SaveStoreConfig(const model::StoreConfig& config) {
  KASSA_TRY_ASSIGN(const Bytes plain, proto_codec::EncodeStoreConfig(config));
  KASSA_TRY_ASSIGN(const Bytes sealed, impl_->protection->Seal(plain));
  return Update(impl_->env, [&](WriteTxn& txn) { return txn.Put(impl_->meta, AsBytes(kStoreConfigKey), sealed); });
}

Result<CheckReport> CustomerStore::Check() {
  CheckReport report;
  const auto problem = [&](std::string text) {
    if (report.problems.size() < CheckReport::kMaxProblems) report.problems.push_back(std::move(text));
  };
  // One snapshot for the whole check, so concurrent writes cannot cause false alarms.
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(impl_->env));

  std::set<model::LocalId> pending;
  std::uint64_t expected_entries = 0;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(impl_->customers));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    for (; found; ++report.customers) {
      model::LocalId id;
      if (cursor.key().size() == model::kLocalIdBytes) {
        std::copy_n(cursor.key().begin(), model::kLocalIdBytes, id.bytes.begin());
      }
      const std::string hex_key = id.ToHex();
      auto customer = impl_->OpenCustomer(cursor.value());
      if (!customer.ok()) {
        problem("customer " + hex_key + ": record does not decode (" + customer.status().detail() + ")");
      } else if (customer->id != id) {
        problem("customer " + hex_key + ": record holds another id " + customer->id.ToHex());
      } else {
        if (customer->pending()) pending.insert(id);
        for (const auto& e : IndexEntriesOf(*customer)) {
          ++expected_entries;
          auto v = txn.Get(impl_->index, AsBytes(impl_->EntryKey(e, id)));
          if (!v.ok()) {
            problem("customer " + hex_key + ": index entry missing for " + ToString(e.field) + " '" + e.term + "'");
          } else if (v->size() != 1 || (*v)[0] != static_cast<std::uint8_t>(e.field)) {
            problem("customer " + hex_key + ": index entry for '" + e.term + "' names the wrong field");
          }
        }
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  KASSA_TRY_ASSIGN(report.index_entries, txn.Count(impl_->index));
  if (report.index_entries != expected_entries) {
    problem("index holds " + std::to_string(report.index_entries) + " entries but the customers derive " +
            std::to_string(expected_entries) + " (stale entries left behind)");
  }

  std::map<model::LocalId, int> creations;
  std::uint64_t last_seq = 0;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(impl_->outbox));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    for (; found; ++report.outbox_entries) {
      last_seq = SeqOf(cursor.key());
      auto op = impl_->OpenOperation(cursor.value());
      if (!op.ok()) {
        problem("outbox entry " + std::to_string(last_seq) + ": does not decode (" + op.status().detail() + ")");
      } else {
        if (op->kind == model::OperationKind::kCreateCustomer) ++creations[op->customer.id];
        if (!txn.Get(impl_->customers, IdKey(op->customer.id)).ok()) {
          problem("outbox entry " + std::to_string(last_seq) + ": customer " + op->customer.id.ToHex() + " is not stored");
        }
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  for (const auto& id : pending) {
    const auto it = creations.find(id);
    const int n = it == creations.end() ? 0 : it->second;
    if (n != 1) {
      problem("pending customer " + id.ToHex() + ": " + std::to_string(n) + " queued creations (expected exactly 1)");
    }
  }
  for (const auto& [id, n] : creations) {
    if (!pending.contains(id)) problem("outbox creates customer " + id.ToHex() + " which is not pending");
  }
  if (report.outbox_entries > 0) {
    auto next = txn.Get(impl_->meta, AsBytes(kNextSeqKey));
    if (!next.ok() || SeqOf(*next) <= last_seq) {
      problem("outbox sequence counter is behind its last entry " + std::to_string(last_seq));
    }
  }
  return report;
}

}  // namespace kassa::storage
