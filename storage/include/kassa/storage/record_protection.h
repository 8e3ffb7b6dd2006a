#pragma once

// How record values and index terms are stored on disk.
//
// Every value the store writes goes through Seal() and every value it reads
// through Open(); every index term goes through IndexTerm() both when it is
// written and when it is looked up. Today's PlaintextProtection is the
// identity. Encrypting values and keying the index terms (for a lost or
// stolen device) is a new implementation of this interface, given to
// CustomerStore::Open; nothing above the store changes.
//
// Threading: called on the store's thread only.

#include <string>
#include <string_view>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::storage {

class RecordProtection {
 public:
  virtual ~RecordProtection() = default;

  // Returns: kOk; kInternal when sealing fails.
  virtual Result<Bytes> Seal(ByteView plain) = 0;
  // Returns: kOk; kDataLoss when `sealed` fails authentication or is malformed.
  virtual Result<Bytes> Open(ByteView sealed) = 0;
  // The stored form of an index term. Prefix search scans stored terms by
  // prefix, so an implementation either preserves prefixes or stores the
  // prefixes it wants searchable as terms of their own.
  virtual std::string IndexTerm(std::string_view term) = 0;
};

class PlaintextProtection final : public RecordProtection {
 public:
  Result<Bytes> Seal(ByteView plain) override { return Bytes(plain.begin(), plain.end()); }
  Result<Bytes> Open(ByteView sealed) override { return Bytes(sealed.begin(), sealed.end()); }
  std::string IndexTerm(std::string_view term) override { return std::string(term); }
};

}  // namespace kassa::storage
