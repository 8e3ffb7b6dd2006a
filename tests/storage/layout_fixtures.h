#pragma once

// Stores of every earlier layout, for the migration tests: each made from a
// store of today by rewriting it with bare LMDB the way that layout kept its
// tables (the history is in storage/src/terminal_core.h). No old binary is
// needed, and each fixture holds whatever the test put in the store first.
//
//   layout  made by                what differs from the one after it
//   12      DowngradeToLayout12    the recent index in a table of its own (index_recent),
//                                  its version there, not in the outbox
//   11      DowngradeToLayout11    the outbox's next sequence and the count of pending
//                                  customers in meta, not in the outbox's tail record
//   10      DowngradeToLayout10    no version of the recent index (started on migration)
//   9       DowngradeToLayout9     no version of the index heads (started on migration)
//   8       DowngradeToLayout8     no index_heads (counted from the index on migration)
//   7       DowngradeToLayout7     name terms folded by kassa's own table, not utf8proc
//                                  (rebuilt on migration: the fixture drops the name
//                                  entries, which the upgrade must derive again)
//   6       DowngradeToLayout6     each customer's data key wrapped in front of its
//                                  record (sealed stores only), no key slots file
//   5       DowngradeToLayout5     quarantine values without the customer's id
//   4       DowngradeToLayout4     no recent index (its entries in the index), outbox
//                                  values bare, outbox_refs (customer id | sequence)
//   3       DowngradeToLayout3     no count of pending customers in meta (a phone's
//                                  index entries differed too: rebuilt on migration,
//                                  so not rewritten here)
//   2       DowngradeToLayout2     name index entries without the name tokens
//   1       DowngradeToLayout1     no quarantine and no outbox_refs
//
// Each downgrade to layout N REQUIRES a store of layout N+1, closed (5: a
// plaintext store of today, which counts as layout 6 once its heads are
// dropped: 7 differs from 8 only in its index, 6 from 7 only when sealed);
// it fails the test (gtest assertions) when the store is not.

#include <lmdb.h>

#include <string>

#include "kassa/crypto/key_store.h"

namespace kassa::storage {

// A store's environment opened bare, in one write transaction committed
// when it goes: for tests that damage a store, or rewrite it as an earlier
// layout wrote it.
class RawStore {
 public:
  explicit RawStore(const std::string& dir);
  ~RawStore();
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;

  MDB_txn* txn() const { return txn_; }
  MDB_dbi Dbi(const char* name, unsigned flags = 0) const;
  // Stamps the layout the store says it has.
  void Stamp(std::string layout) const;
  // The layout the store says it has ("" when none).
  std::string Layout() const;
  // Every table's every key and value, in order: equal dumps, equal stores.
  std::string Dump() const;

 private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

// `master`: the key the store was sealed under; its slots file
// (`dir` + ".slots") is read, then removed.
void DowngradeToLayout12(const std::string& dir);
void DowngradeToLayout11(const std::string& dir);
void DowngradeToLayout10(const std::string& dir);
void DowngradeToLayout9(const std::string& dir);
void DowngradeToLayout8(const std::string& dir);
void DowngradeToLayout7(const std::string& dir);
void DowngradeToLayout6(const std::string& dir, const crypto::MasterKey& master);
void DowngradeToLayout5(const std::string& dir);
void DowngradeToLayout4(const std::string& dir);
void DowngradeToLayout3(const std::string& dir);
void DowngradeToLayout2(const std::string& dir);
// REQUIRES: the quarantine is empty (layout 1 had none).
void DowngradeToLayout1(const std::string& dir);

// A plaintext store of today (or, for 6, a sealed one under `master`)
// rewritten as layout `layout` (1 to 8) wrote it.
void DowngradeTo(int layout, const std::string& dir, const crypto::MasterKey* master);

}  // namespace kassa::storage
