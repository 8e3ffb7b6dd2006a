#pragma once

// Customer search over any CustomerIndex: the terminal's own cache and
// headquarters' chain-wide store rank results the same way.

#include <optional>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/search/customer_index.h"

namespace kassa::search {

inline constexpr std::size_t kDefaultSearchLimit = 20;
inline constexpr std::size_t kMaxSearchLimit = 100;

struct SearchResult {
  model::Customer customer;
  search::MatchedField matched;  // the field that made it a result
  int score = 0;                  // higher ranks first
};

// Finds customers by name tokens in any order and by prefix (accents and
// case folded), phone in any formatting or by prefix of the national number
// (national numbers read in `default_country`), email (case folded, by
// prefix), account number or loyalty card. Ranked best first, at most
// `limit` (1..kMaxSearchLimit).
//
// Work is bounded by `limit`, not by how many customers match: each index
// kind gives at most `limit` entries (exact terms before prefixes), names
// are checked on the index entries, and only the chosen customers are read.
// When more customers match than `limit` at the same score (a common name
// prefix), the ones shown are the first in index order (term, then id),
// ranked by name; typing more narrows them down. A name query checks at
// most 20,000 entries of its longest token.
//
// Returns: kOk (possibly empty); kInvalidArgument "q: ..." for an empty
// query or "limit: ..." out of range.
Result<std::vector<SearchResult>> SearchCustomers(search::CustomerIndex& index, std::string_view query,
                                                  std::size_t limit, std::string_view default_country);

// The customer whose account number is exactly `account` (case folded).
Result<std::optional<model::LocalId>> FindByAccount(search::CustomerIndex& index, std::string_view account);

}  // namespace kassa::search
