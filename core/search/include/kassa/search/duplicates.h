#pragma once

// Likely duplicates of a customer about to be created: the customers already
// in a store (the terminal's cache, offline, or headquarters' chain) that are
// probably the same person, each with the reasons why. A person decides; kassa
// only points them out.
//
// A candidate is found by, and confirmed on its record for, any of:
//   same_email      an email (primary or secondary) equal once folded;
//   same_phone      a phone (primary or secondary) equal once normalized
//                   (+371 2911 2233 = 29112233 in LV);
//   similar_name_same_postal_code
//                   the same folded name tokens, each within one edit
//                   (Ozolina ~ Ozoliņa ~ Ozolinа with a Cyrillic а, Bērziņš ~
//                   Berzins; a token shorter than four letters or differing
//                   in a digit must be equal), and an address with the same
//                   postal code (case, spaces, hyphens ignored);
//   similar_name_same_phone_prefix
//                   the same similar name and a phone that agrees with one of
//                   the new customer's on all but its last four digits (same
//                   length, same country).
//
// Work is bounded, not proportional to the store: exact email and phone
// terms; for names, each token's entries and those of its first three
// letters (at most kMaxNameEntriesPerScan each), of which at most
// kMaxNameRecords are read, those sharing most tokens first. A name whose
// every token was mistyped within its first three letters is not found
// (each token's exact term and three-letter prefix are what is looked up).

#include <cstddef>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/search/customer_index.h"

namespace kassa::search {

enum class DuplicateReason : std::uint8_t {
  kSameEmail = 1,
  kSamePhone = 2,
  kSimilarNameSamePostalCode = 3,
  kSimilarNameSamePhonePrefix = 4,
};

// "same_email", "same_phone", "similar_name_same_postal_code", "similar_name_same_phone_prefix".
const char* ToString(DuplicateReason reason);

struct DuplicateCandidate {
  model::Customer customer;
  std::vector<DuplicateReason> reasons;  // in enum order, each once
};

struct DuplicateQuery {
  // Only same_email and same_phone (a shopper's self sign-up: a name is not
  // evidence enough to tell a stranger they are already known).
  bool contacts_only = false;
  std::size_t limit = 5;  // candidates returned, strongest first (contacts before names)
};

inline constexpr std::size_t kMaxNameEntriesPerScan = 2000;
inline constexpr std::size_t kMaxNameRecords = 200;

// The likely duplicates of `customer` (normalized, as model::NormalizeCustomer
// leaves it; not itself in `index`), in one snapshot of `index`.
// Returns: kOk (empty when there are none); the index's errors.
Result<std::vector<DuplicateCandidate>> FindDuplicates(CustomerIndex& index, const model::Customer& customer,
                                                       const DuplicateQuery& query);

// Whether folded tokens `a` and `b` are at most one edit apart (one code
// point inserted, deleted or replaced).
bool WithinOneEdit(std::string_view a, std::string_view b);

}  // namespace kassa::search
