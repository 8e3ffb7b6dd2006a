#pragma once

// The secondary indexes of the customer store: which terms of a customer are
// indexed, under which kind, and which field each came from.
//
// One function, IndexEntriesOf(), derives a customer's entries; the store
// uses it on every write and the consistency check uses it to verify, so the
// indexes can only ever hold what this function says.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kassa/model/customer.h"

namespace kassa::search {

enum class IndexKind : std::uint8_t {
  kName = 1,           // folded name tokens (prefix search)
  kEmail = 2,          // folded whole email (prefix search)
  kPhoneE164 = 3,      // E.164 digits without '+', only for numbers of an unknown country code
  kPhoneNational = 4,  // national significant number (prefix search), with its country code
  kAccount = 5,        // account number, upper-cased (unique)
  kLoyaltyCard = 6,    // card number (unique)
  // 7 was the pending marker (layouts 1 to 3); the store keeps a count instead.
};

// Which field of the customer an index entry came from: the "matched"
// reason search reports.
enum class MatchedField : std::uint8_t {
  kFirstName = 1,
  kLastName = 2,
  kOrganizationName = 3,
  kEmail = 4,
  kSecondaryEmail = 5,
  kPhone = 6,
  kSecondaryPhone = 7,
  kAddressPhone = 8,
  kAccount = 9,
  kLoyaltyCard = 10,
};

// Human text of `f`, e.g. "secondary phone".
const char* ToString(MatchedField f);

struct IndexEntry {
  IndexKind kind;
  std::string term;
  MatchedField field;
  // Stored with the entry, so that search can judge it without reading the
  // customer:
  //   kName           every name token of the customer (first, last and
  //                   organization name, folded), separated by one space:
  //                   a search for several tokens checks the others here;
  //   kPhoneNational  the number's country calling code ("371"): an
  //                   international search keeps its country's numbers.
  // Empty for the other kinds.
  std::string detail;
};

// Every index entry of `c`, one per (kind, term): where a term comes from
// several fields, the most specific one (primary before secondary) wins.
std::vector<IndexEntry> IndexEntriesOf(const model::Customer& c);
// The same, only those of kind `only` (both phone kinds for either phone
// kind): what confirming one kind of match needs, without the rest's work.
std::vector<IndexEntry> IndexEntriesOf(const model::Customer& c, std::optional<IndexKind> only);

// Longest term kept in an index; longer terms are cut (LMDB keys are at most
// 511 bytes and no name or email token comes close).
inline constexpr std::size_t kMaxIndexTermBytes = 256;

}  // namespace kassa::search
