#include "kassa/search/customer_search.h"

#include <algorithm>
#include <map>

#include "kassa/model/email.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"

namespace kassa::search {
namespace {

using storage::IndexKind;
using storage::MatchedField;

// Search scores: exact identifiers first, then phones and names, then
// partial emails. Within a kind, an exact term beats a prefix.
constexpr int kScoreExactId = 1000;    // account number, loyalty card
constexpr int kScoreExactEmail = 900;
constexpr int kScoreExactPhone = 800;
constexpr int kScoreName = 600;        // + kScoreExactToken per fully typed token
constexpr int kScoreExactToken = 50;
constexpr int kScorePhonePrefix = 500;
constexpr int kScoreCardPrefix = 400;
constexpr int kScoreEmailPrefix = 350;
// Index hits read per query kind: a bound on work for very common prefixes.
constexpr std::size_t kMaxCandidates = 2000;
constexpr std::size_t kMaxQueryTokens = 8;
constexpr std::size_t kMaxQueryBytes = 256;

std::string CardNumber(std::string_view s) {
  std::string out = model::AsciiUpper(s);
  std::erase_if(out, [](char c) { return c == ' ' || c == '\t'; });
  return out;
}

}  // namespace

Result<std::optional<model::LocalId>> FindByAccount(storage::CustomerIndex& index, std::string_view account) {
  const std::string upper = model::AsciiUpper(model::Trim(account));
  if (upper.empty()) return std::optional<model::LocalId>();
  KASSA_TRY_ASSIGN(const auto hits, index.ScanPrefix(IndexKind::kAccount, upper, 2));
  for (const auto& hit : hits) {
    if (hit.term == upper) return std::optional<model::LocalId>(hit.id);
  }
  return std::optional<model::LocalId>();
}

Result<std::vector<SearchResult>> SearchCustomers(storage::CustomerIndex& index, std::string_view query, std::size_t limit,
                                                  std::string_view default_country) {
  query = model::Trim(query);
  if (query.empty()) return Status(StatusCode::kInvalidArgument, "q: the search text is empty");
  if (query.size() > kMaxQueryBytes) return Status(StatusCode::kInvalidArgument, "q: longer than 256 bytes");
  if (limit == 0 || limit > kMaxSearchLimit) return Status(StatusCode::kInvalidArgument, "limit: must be 1 to 100");

  struct Candidate {
    int score = 0;
    MatchedField matched = MatchedField::kLastName;
  };
  std::map<model::LocalId, Candidate> found;
  const auto offer = [&](const model::LocalId& id, int score, MatchedField field) {
    Candidate& c = found[id];
    if (score > c.score) c = {score, field};
  };
  // Exact-or-prefix scan of one index kind.
  const auto scan = [&](IndexKind kind, const std::string& term, int exact, int prefix) -> Status {
    KASSA_TRY_ASSIGN(const auto hits, index.ScanPrefix(kind, term, kMaxCandidates));
    for (const auto& hit : hits) {
      if (hit.term == term) offer(hit.id, exact, hit.field);
      else if (prefix > 0) offer(hit.id, prefix, hit.field);
    }
    return Status::Ok();
  };

  const std::string upper = model::AsciiUpper(query);
  KASSA_TRY(scan(IndexKind::kAccount, upper, kScoreExactId, 0));
  const std::string card = CardNumber(query);
  KASSA_TRY(scan(IndexKind::kLoyaltyCard, card, kScoreExactId, card.size() >= 4 ? kScoreCardPrefix : 0));
  const bool single_word = query.find(' ') == std::string_view::npos;
  if (single_word && query.size() >= 3) {
    KASSA_TRY(scan(IndexKind::kEmail, model::FoldEmail(query), kScoreExactEmail, kScoreEmailPrefix));
  }
  if (const std::string digits = model::PhoneSearchDigits(query, default_country); !digits.empty()) {
    const bool international = query.front() == '+' || query.substr(0, 2) == "00";
    KASSA_TRY(scan(international ? IndexKind::kPhoneE164 : IndexKind::kPhoneNational, digits,
                   kScoreExactPhone, kScorePhonePrefix));
  }

  // A query with '@' is an email: its parts are not name tokens.
  std::vector<std::string> tokens;
  if (query.find('@') == std::string_view::npos) tokens = model::NameTokens(query);
  if (tokens.size() > kMaxQueryTokens) tokens.resize(kMaxQueryTokens);
  std::map<model::LocalId, model::Customer> loaded;
  if (!tokens.empty()) {
    // Drive by the longest token (usually the most selective), then verify
    // the others against each candidate's own name tokens.
    const std::string& driver = *std::max_element(tokens.begin(), tokens.end(),
        [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    KASSA_TRY_ASSIGN(const auto hits, index.ScanPrefix(IndexKind::kName, driver, kMaxCandidates));
    std::vector<model::LocalId> ids;
    std::map<model::LocalId, MatchedField> driver_field;
    for (const auto& hit : hits) {
      if (driver_field.emplace(hit.id, hit.field).second) ids.push_back(hit.id);
    }
    KASSA_TRY_ASSIGN(std::vector<model::Customer> candidates, index.GetMany(ids));
    for (auto& c : candidates) {
      std::vector<std::string> own = model::NameTokens(c.first_name);
      for (auto& t : model::NameTokens(c.last_name)) own.push_back(std::move(t));
      for (auto& t : model::NameTokens(c.organization_name)) own.push_back(std::move(t));
      int score = kScoreName;
      bool all = true;
      for (const auto& t : tokens) {
        bool prefix = false;
        bool exact = false;
        for (const auto& o : own) {
          if (o.compare(0, t.size(), t) == 0) {
            prefix = true;
            exact = exact || o.size() == t.size();
          }
        }
        if (!prefix) {
          all = false;
          break;
        }
        if (exact) score += kScoreExactToken;
      }
      if (all) offer(c.id, score, driver_field.at(c.id));
      loaded.emplace(c.id, std::move(c));
    }
  }

  std::vector<model::LocalId> missing;
  for (const auto& [id, cand] : found) {
    if (cand.score > 0 && !loaded.contains(id)) missing.push_back(id);
  }
  KASSA_TRY_ASSIGN(std::vector<model::Customer> rest, index.GetMany(missing));
  for (auto& c : rest) loaded.emplace(c.id, std::move(c));
  std::vector<SearchResult> results;
  results.reserve(found.size());
  for (const auto& [id, cand] : found) {
    if (cand.score > 0) results.push_back({loaded.at(id), cand.matched, cand.score});
  }
  std::sort(results.begin(), results.end(), [](const SearchResult& a, const SearchResult& b) {
    if (a.score != b.score) return a.score > b.score;
    const std::string na = model::FoldText(model::DisplayName(a.customer));
    const std::string nb = model::FoldText(model::DisplayName(b.customer));
    if (na != nb) return na < nb;
    return a.customer.id < b.customer.id;
  });
  if (results.size() > limit) results.resize(limit);
  return results;
}

}  // namespace kassa::search
