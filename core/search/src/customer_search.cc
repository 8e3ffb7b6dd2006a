#include "kassa/search/customer_search.h"

#include <algorithm>
#include <map>

#include "kassa/model/email.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"

namespace kassa::search {
namespace {

using search::IndexKind;
using search::MatchedField;

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
// Name index entries checked per query: a bound on work when the longest
// token is common and the others rule most of its entries out.
constexpr std::size_t kMaxNameEntries = 20000;
// Phone entries of other countries skipped per international query.
constexpr std::size_t kMaxFilteredEntries = 20000;
constexpr std::size_t kMaxQueryTokens = 8;
constexpr std::size_t kMaxQueryBytes = 256;

std::string CardNumber(std::string_view s) {
  std::string out = model::AsciiUpper(s);
  std::erase_if(out, [](char c) { return c == ' ' || c == '\t'; });
  return out;
}

// What a query looks for in each index kind, kept to confirm candidates
// where stored terms are not the terms themselves.
struct QueryTerms {
  std::string account;   // exact
  std::string card;      // exact or prefix
  std::string email;     // exact or prefix
  std::string national;  // phone: exact or prefix
  std::string code;      // phone: the country code the national number must have ("": any)
  std::string e164;      // exact or prefix
  std::vector<std::string> tokens;  // name tokens: each a prefix of one of the customer's
};

constexpr unsigned Bit(IndexKind kind) { return 1u << static_cast<unsigned>(kind); }

// Whether `c` matches `q` in one of `kinds`, read from its own index
// entries (only those of the kind asked about are derived).
bool Confirmed(const model::Customer& c, unsigned kinds, const QueryTerms& q) {
  const auto any = [&](IndexKind kind, const std::string& term, bool exact, std::string_view detail = {}) {
    const std::vector<IndexEntry> entries = IndexEntriesOf(c, kind);
    return std::any_of(entries.begin(), entries.end(), [&](const IndexEntry& e) {
      return e.kind == kind && (exact ? e.term == term : e.term.starts_with(term)) &&
             (detail.empty() || e.detail == detail);
    });
  };
  if ((kinds & Bit(IndexKind::kAccount)) != 0 && any(IndexKind::kAccount, q.account, true)) return true;
  if ((kinds & Bit(IndexKind::kLoyaltyCard)) != 0 && any(IndexKind::kLoyaltyCard, q.card, false)) return true;
  if ((kinds & Bit(IndexKind::kEmail)) != 0 && any(IndexKind::kEmail, q.email, false)) return true;
  if ((kinds & Bit(IndexKind::kPhoneNational)) != 0 && any(IndexKind::kPhoneNational, q.national, false, q.code)) {
    return true;
  }
  if ((kinds & Bit(IndexKind::kPhoneE164)) != 0 && any(IndexKind::kPhoneE164, q.e164, false)) return true;
  if ((kinds & Bit(IndexKind::kName)) != 0) {
    const std::vector<IndexEntry> names = IndexEntriesOf(c, IndexKind::kName);
    return std::all_of(q.tokens.begin(), q.tokens.end(), [&](const std::string& t) {
      return std::any_of(names.begin(), names.end(), [&](const IndexEntry& e) { return e.term.starts_with(t); });
    });
  }
  return false;
}

// SearchCustomers over one snapshot, into `results`.
Status SearchSnapshot(const search::IndexSnapshot& snapshot, std::string_view query, std::size_t limit,
                      std::string_view default_country, std::vector<SearchResult>& results) {
  // Candidates are chosen from the index alone; only the `limit` best are
  // read. Within one kind the index visits exact terms first, so the first
  // `limit` entries of a kind are its best; `order` keeps that order for
  // candidates of equal score.
  struct Candidate {
    int score = 0;
    MatchedField matched = MatchedField::kLastName;
    std::size_t order = 0;
    unsigned kinds = 0;  // Bit() of every kind that offered it
  };
  std::map<model::LocalId, Candidate> found;
  QueryTerms terms;
  const auto offer = [&](const model::LocalId& id, int score, MatchedField field, IndexKind kind) {
    auto [it, inserted] = found.try_emplace(id, Candidate{score, field, found.size(), 0});
    it->second.kinds |= Bit(kind);
    if (!inserted && score > it->second.score) {
      it->second.score = score;
      it->second.matched = field;
    }
  };
  // Exact-or-prefix scan of one index kind: at most `limit` entries, and only
  // the exact ones where `prefix` is 0.
  // With `detail`, only entries carrying that detail count (a country code),
  // and at most kMaxFilteredEntries are looked at.
  const auto scan = [&](IndexKind kind, const std::string& term, int exact, int prefix,
                        std::string_view detail = {}) -> Status {
    std::size_t taken = 0;
    std::size_t visited = 0;
    return snapshot.VisitPrefix(kind, term, [&](const search::IndexEntryView& hit) {
      if (!hit.exact && prefix == 0) return false;  // exact terms come first: no more to find
      if (!detail.empty() && hit.detail != detail) return ++visited < kMaxFilteredEntries;
      offer(hit.id, hit.exact ? exact : prefix, hit.field, kind);
      return ++taken < limit;
    });
  };

  // Every term the query is looked up by, first, so the snapshot knows the
  // scans to come (IndexSnapshot::Expect).
  terms.account = model::AsciiUpper(query);
  terms.card = CardNumber(query);
  const bool single_word = query.find(' ') == std::string_view::npos;
  if (single_word && query.size() >= 3) terms.email = model::FoldEmail(query);
  const std::string digits = model::PhoneSearchDigits(query, default_country);
  const bool international = !digits.empty() && (query.front() == '+' || query.substr(0, 2) == "00");
  if (!digits.empty() && !international) {
    terms.national = digits;
    // In a store whose country's numbers are indexed by E.164 digits: those too.
    terms.e164 = model::NationalQueryAsE164(query, default_country);
  }
  if (international) {
    // The national numbers of the query's country, then the numbers whose
    // country kassa does not know, by their E.164 digits.
    if (const std::string code = model::CountryCodeOf("+" + digits); !code.empty()) {
      terms.national = digits.substr(code.size());
      terms.code = code;
    }
    terms.e164 = digits;
  }
  // A query with '@' is an email: its parts are not name tokens.
  std::vector<std::string> tokens;
  if (query.find('@') == std::string_view::npos) tokens = model::NameTokens(query);
  if (tokens.size() > kMaxQueryTokens) tokens.resize(kMaxQueryTokens);
  // Names are driven by the longest token (usually the most selective); the
  // others are checked against the name tokens each index entry carries.
  const std::string driver = tokens.empty() ? std::string() :
      *std::max_element(tokens.begin(), tokens.end(),
                        [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  snapshot.Expect(IndexKind::kAccount, terms.account);
  snapshot.Expect(IndexKind::kLoyaltyCard, terms.card);
  if (!terms.email.empty()) snapshot.Expect(IndexKind::kEmail, terms.email);
  if (!terms.national.empty()) snapshot.Expect(IndexKind::kPhoneNational, terms.national);
  if (!terms.e164.empty()) snapshot.Expect(IndexKind::kPhoneE164, terms.e164);
  if (!driver.empty()) snapshot.Expect(IndexKind::kName, driver);

  KASSA_TRY(scan(IndexKind::kAccount, terms.account, kScoreExactId, 0));
  KASSA_TRY(scan(IndexKind::kLoyaltyCard, terms.card, kScoreExactId, terms.card.size() >= 4 ? kScoreCardPrefix : 0));
  if (!terms.email.empty()) KASSA_TRY(scan(IndexKind::kEmail, terms.email, kScoreExactEmail, kScoreEmailPrefix));
  if (!digits.empty() && !international) {
    KASSA_TRY(scan(IndexKind::kPhoneNational, digits, kScoreExactPhone, kScorePhonePrefix));
    if (!terms.e164.empty()) KASSA_TRY(scan(IndexKind::kPhoneE164, terms.e164, kScoreExactPhone, kScorePhonePrefix));
  }
  if (international) {
    if (!terms.code.empty()) {
      KASSA_TRY(scan(IndexKind::kPhoneNational, terms.national, kScoreExactPhone, kScorePhonePrefix, terms.code));
    }
    KASSA_TRY(scan(IndexKind::kPhoneE164, digits, kScoreExactPhone, kScorePhonePrefix));
  }

  if (!tokens.empty()) {
    // The tokens as the index stores them, to compare with the entries' own:
    // worked out at the first entry (most identifiers are no one's name).
    std::vector<std::string> stored;
    std::size_t visited = 0;
    std::size_t matched = 0;
    std::vector<std::string_view> own;
    KASSA_TRY(snapshot.VisitPrefix(IndexKind::kName, driver, [&](const search::IndexEntryView& hit) {
      if (++visited > kMaxNameEntries) return false;
      if (stored.empty()) {
        for (const auto& t : tokens) stored.push_back(snapshot.StoredTerm(IndexKind::kName, t));
      }
      own.clear();
      for (std::string_view rest = hit.detail; !rest.empty();) {
        const std::size_t space = rest.find(' ');
        own.push_back(rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      }
      int score = kScoreName;
      for (const auto& t : stored) {
        bool prefix = false;
        bool exact = false;
        for (const auto& o : own) {
          if (o.starts_with(t)) {
            prefix = true;
            exact = exact || o.size() == t.size();
          }
        }
        if (!prefix) return true;  // not all tokens: the next entry
        if (exact) score += kScoreExactToken;
      }
      if (!found.contains(hit.id)) ++matched;
      offer(hit.id, score, hit.field, IndexKind::kName);
      return matched < limit;
    }));
    terms.tokens = std::move(tokens);
  }

  // The best `limit` candidates, then read and ranked for people.
  std::vector<std::pair<model::LocalId, Candidate>> best(found.begin(), found.end());
  std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) {
    if (a.second.score != b.second.score) return a.second.score > b.second.score;
    return a.second.order < b.second.order;
  });
  if (best.size() > limit) best.resize(limit);
  std::vector<model::LocalId> ids;
  ids.reserve(best.size());
  for (const auto& [id, cand] : best) ids.push_back(id);
  auto read = snapshot.GetMany(ids);
  std::vector<model::Customer> customers;
  if (read.ok()) {
    customers = std::move(*read);
  } else if (read.status().code() == StatusCode::kNotFound) {
    // A candidate whose record does not open any more (one left by a backup
    // restored after its erasure: its key is wiped) is dropped, not an error.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < best.size(); ++i) {
      auto one = snapshot.GetMany({best[i].first});
      if (!one.ok() && one.status().code() == StatusCode::kNotFound) continue;
      KASSA_TRY(one.status());
      customers.push_back(std::move(one->front()));
      best[kept++] = best[i];
    }
    best.resize(kept);
  } else {
    return read.status();
  }
  if (!snapshot.exact_terms()) {
    // Stored terms can, rarely, be shared by two terms: keep only the
    // customers that really match.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < customers.size(); ++i) {
      if (!Confirmed(customers[i], best[i].second.kinds, terms)) continue;
      if (kept != i) {
        customers[kept] = std::move(customers[i]);
        best[kept] = best[i];
      }
      ++kept;
    }
    customers.resize(kept);
    best.resize(kept);
  }
  // Ranked by score, then folded name, then id: the keys made once, the
  // order found on indexes, each customer moved once.
  std::vector<std::size_t> order(customers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::string> names;
  if (customers.size() > 1) {  // an identifier's one customer needs no name folded
    names.reserve(customers.size());
    for (const auto& c : customers) names.push_back(model::FoldText(model::DisplayName(c)));
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (best[a].second.score != best[b].second.score) return best[a].second.score > best[b].second.score;
    if (names[a] != names[b]) return names[a] < names[b];
    return customers[a].id < customers[b].id;
  });
  results.reserve(order.size());
  for (std::size_t i : order) {
    SearchResult& r = results.emplace_back();  // built in place: no customer moved twice
    r.customer = std::move(customers[i]);
    r.matched = best[i].second.matched;
    r.score = best[i].second.score;
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<model::LocalId>> FindByAccount(search::CustomerIndex& index, std::string_view account) {
  const std::string upper = model::AsciiUpper(model::Trim(account));
  std::optional<model::LocalId> out;
  if (upper.empty()) return out;
  KASSA_TRY(index.Read([&](const IndexSnapshot& snapshot) -> Status {
    std::vector<model::LocalId> exact;
    KASSA_TRY(snapshot.VisitPrefix(IndexKind::kAccount, upper, [&](const IndexEntryView& hit) {
      if (hit.exact) exact.push_back(hit.id);
      return hit.exact;
    }));
    if (snapshot.exact_terms()) {
      if (!exact.empty()) out = exact.front();
      return Status::Ok();
    }
    KASSA_TRY_ASSIGN(const auto customers, snapshot.GetMany(exact));
    for (const auto& c : customers) {
      if (model::AsciiUpper(c.account) == upper) {
        out = c.id;
        break;
      }
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<SearchResult>> SearchCustomers(search::CustomerIndex& index, std::string_view query, std::size_t limit,
                                                  std::string_view default_country) {
  query = model::Trim(query);
  if (query.empty()) return Status(StatusCode::kInvalidArgument, "q: the search text is empty");
  if (query.size() > kMaxQueryBytes) return Status(StatusCode::kInvalidArgument, "q: longer than 256 bytes");
  if (limit == 0 || limit > kMaxSearchLimit) return Status(StatusCode::kInvalidArgument, "limit: must be 1 to 100");

  std::vector<SearchResult> results;
  KASSA_TRY(index.Read([&](const search::IndexSnapshot& snapshot) {
    return SearchSnapshot(snapshot, query, limit, default_country, results);
  }));
  return results;
}

}  // namespace kassa::search
