#include "kassa/search/duplicates.h"

#include <algorithm>
#include <map>
#include <set>

#include "kassa/model/email.h"
#include "kassa/model/text.h"
#include "kassa/search/index.h"

namespace kassa::search {
namespace {

// A token shorter than this must match exactly: one edit turns "li" into "le".
constexpr std::size_t kMinEditableTokenCodePoints = 4;
// Letters of a token whose entries are also scanned as a prefix, so that a
// token mistyped after them is found.
constexpr std::size_t kNamePrefixCodePoints = 3;
// Trailing digits two phones may differ in and still share a prefix.
constexpr std::size_t kPhoneSuffixDigits = 4;
constexpr std::size_t kMinPrefixPhoneLength = 8;

std::vector<std::string> Emails(const model::Customer& c) {
  std::vector<std::string> out;
  if (!c.email.empty()) out.push_back(model::FoldEmail(c.email));
  for (const auto& e : c.secondary_emails) out.push_back(model::FoldEmail(e.value));
  return out;
}

std::vector<std::string> Phones(const model::Customer& c) {
  std::vector<std::string> out;
  if (!c.phone.empty()) out.push_back(c.phone);
  for (const auto& p : c.secondary_phones) out.push_back(p.value);
  return out;
}

std::string PostalKey(std::string_view postal) {
  std::string out = model::AsciiUpper(postal);
  std::erase_if(out, [](char ch) { return ch == ' ' || ch == '-'; });
  return out;
}

std::vector<std::string> NameTokensOf(const model::Customer& c) {
  std::vector<std::string> tokens = model::NameTokens(c.first_name + " " + c.last_name + " " + c.organization_name);
  std::sort(tokens.begin(), tokens.end());
  return tokens;
}

bool Intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return std::find(b.begin(), b.end(), x) != b.end(); });
}

std::string DigitsOf(std::string_view token) {
  std::string out;
  for (const char ch : token) {
    if (ch >= '0' && ch <= '9') out += ch;
  }
  return out;
}

// Within one edit, both long enough, and the same digits: "Shop 1" and
// "Shop 2", "Test0" and "Test1" are different names, not typos.
bool NearToken(const std::string& a, const std::string& b) {
  return model::CodePoints(a).size() >= kMinEditableTokenCodePoints &&
         model::CodePoints(b).size() >= kMinEditableTokenCodePoints && DigitsOf(a) == DigitsOf(b) && WithinOneEdit(a, b);
}

// The same number of tokens, paired one to one: equal, or near (NearToken).
bool SimilarNames(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  const auto pair = [&](const std::string& t, bool exact) {
    for (std::size_t j = 0; j < b.size(); ++j) {
      if (used[j]) continue;
      if (exact ? b[j] == t : NearToken(t, b[j])) {
        used[j] = true;
        return true;
      }
    }
    return false;
  };
  // Exact pairs first, so that an edit never takes a token another matches exactly.
  std::vector<const std::string*> rest;
  for (const auto& t : a) {
    if (!pair(t, true)) rest.push_back(&t);
  }
  return std::all_of(rest.begin(), rest.end(), [&](const std::string* t) { return pair(*t, false); });
}

bool SamePostalCode(const model::Customer& a, const model::Customer& b) {
  for (const auto& x : a.addresses) {
    const std::string key = PostalKey(x.postal_code);
    if (key.empty()) continue;
    for (const auto& y : b.addresses) {
      if (PostalKey(y.postal_code) == key) return true;
    }
  }
  return false;
}

bool SamePhonePrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const auto& x : a) {
    if (x.size() < kMinPrefixPhoneLength) continue;
    for (const auto& y : b) {
      if (y.size() == x.size() && x.compare(0, x.size() - kPhoneSuffixDigits, y, 0, y.size() - kPhoneSuffixDigits) == 0) {
        return true;
      }
    }
  }
  return false;
}

std::vector<DuplicateReason> ReasonsFor(const model::Customer& wanted, const model::Customer& other, bool contacts_only) {
  std::vector<DuplicateReason> reasons;
  if (Intersects(Emails(wanted), Emails(other))) reasons.push_back(DuplicateReason::kSameEmail);
  const std::vector<std::string> phones = Phones(wanted);
  const std::vector<std::string> their_phones = Phones(other);
  if (Intersects(phones, their_phones)) reasons.push_back(DuplicateReason::kSamePhone);
  if (contacts_only || !SimilarNames(NameTokensOf(wanted), NameTokensOf(other))) return reasons;
  if (SamePostalCode(wanted, other)) reasons.push_back(DuplicateReason::kSimilarNameSamePostalCode);
  // A phone both have already says more than one nearly the same.
  const bool same_phone = !reasons.empty() && reasons.back() == DuplicateReason::kSamePhone;
  if (!same_phone && SamePhonePrefix(phones, their_phones)) {
    reasons.push_back(DuplicateReason::kSimilarNameSamePhonePrefix);
  }
  return reasons;
}

std::string FirstCodePoints(std::string_view utf8, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < utf8.size() && seen < n; ++seen) {
    ++i;
    while (i < utf8.size() && (static_cast<unsigned char>(utf8[i]) & 0xC0) == 0x80) ++i;
  }
  return std::string(utf8.substr(0, i));
}

Status FindInSnapshot(const IndexSnapshot& snapshot, const model::Customer& wanted, const DuplicateQuery& query,
                      std::vector<DuplicateCandidate>& out) {
  // Candidates from the index: by contact (exact terms), and by name with the
  // number of the new customer's tokens each shares exactly (the order in
  // which their records are read).
  std::set<model::LocalId> by_contact;
  std::map<model::LocalId, std::size_t> by_name;
  for (const IndexEntry& e : IndexEntriesOf(wanted)) {
    const bool contact = e.kind == IndexKind::kEmail || e.kind == IndexKind::kPhoneE164 ||
                         e.kind == IndexKind::kPhoneNational;
    if (!contact || e.field == MatchedField::kAddressPhone) continue;
    KASSA_TRY(snapshot.VisitPrefix(e.kind, e.term, [&](const IndexEntryView& hit) {
      if (!hit.exact) return false;  // exact terms come first
      if (hit.detail == e.detail) by_contact.insert(hit.id);
      return by_contact.size() < query.limit * 4;
    }));
  }
  if (!query.contacts_only) {
    std::vector<std::string> tokens = NameTokensOf(wanted);
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    std::set<std::string> stored;
    for (const auto& t : tokens) stored.insert(snapshot.StoredTerm(IndexKind::kName, t));
    const auto shared = [&](std::string_view detail) {
      std::size_t n = 0;
      while (!detail.empty()) {
        const std::size_t space = detail.find(' ');
        if (stored.contains(std::string(detail.substr(0, space)))) ++n;
        detail = space == std::string_view::npos ? std::string_view() : detail.substr(space + 1);
      }
      return n;
    };
    for (const auto& t : tokens) {
      for (const std::string& scan : {t, FirstCodePoints(t, kNamePrefixCodePoints)}) {
        std::size_t visited = 0;
        KASSA_TRY(snapshot.VisitPrefix(IndexKind::kName, scan, [&](const IndexEntryView& hit) {
          std::size_t& n = by_name[hit.id];
          n = std::max(n, shared(hit.detail));
          return ++visited < kMaxNameEntriesPerScan;
        }));
      }
    }
  }
  // Records read: every contact candidate, then name candidates sharing most tokens.
  std::vector<std::pair<std::size_t, model::LocalId>> ranked;
  for (const auto& [id, n] : by_name) {
    if (!by_contact.contains(id)) ranked.emplace_back(n, id);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (ranked.size() > kMaxNameRecords) ranked.resize(kMaxNameRecords);
  std::vector<model::LocalId> ids(by_contact.begin(), by_contact.end());
  for (const auto& [n, id] : ranked) ids.push_back(id);
  if (ids.empty()) return Status::Ok();
  KASSA_TRY_ASSIGN(std::vector<model::Customer> records, snapshot.GetMany(ids));
  for (auto& record : records) {
    std::vector<DuplicateReason> reasons = ReasonsFor(wanted, record, query.contacts_only);
    if (!reasons.empty()) out.push_back(DuplicateCandidate{std::move(record), std::move(reasons)});
  }
  // Strongest first: the smallest first reason (a shared contact before a similar name), then more reasons.
  std::stable_sort(out.begin(), out.end(), [](const DuplicateCandidate& a, const DuplicateCandidate& b) {
    if (a.reasons.front() != b.reasons.front()) return a.reasons.front() < b.reasons.front();
    return a.reasons.size() > b.reasons.size();
  });
  if (out.size() > query.limit) out.resize(query.limit);
  return Status::Ok();
}

}  // namespace

const char* ToString(DuplicateReason reason) {
  switch (reason) {
    case DuplicateReason::kSameEmail: return "same_email";
    case DuplicateReason::kSamePhone: return "same_phone";
    case DuplicateReason::kSimilarNameSamePostalCode: return "similar_name_same_postal_code";
    case DuplicateReason::kSimilarNameSamePhonePrefix: return "similar_name_same_phone_prefix";
  }
  return "unknown";
}

bool WithinOneEdit(std::string_view a_utf8, std::string_view b_utf8) {
  const std::u32string a = model::CodePoints(a_utf8);
  const std::u32string b = model::CodePoints(b_utf8);
  const std::u32string& longer = a.size() >= b.size() ? a : b;
  const std::u32string& shorter = a.size() >= b.size() ? b : a;
  if (longer.size() - shorter.size() > 1) return false;
  std::size_t i = 0;
  while (i < shorter.size() && shorter[i] == longer[i]) ++i;
  if (i == shorter.size()) return true;  // equal, or one appended
  // The first difference: a replacement skips it in both, an insertion in the longer only.
  const std::u32string_view rest_longer = std::u32string_view(longer).substr(i + 1);
  const std::u32string_view rest_shorter =
      std::u32string_view(shorter).substr(longer.size() == shorter.size() ? i + 1 : i);
  return rest_longer == rest_shorter;
}

Result<std::vector<DuplicateCandidate>> FindDuplicates(CustomerIndex& index, const model::Customer& customer,
                                                       const DuplicateQuery& query) {
  std::vector<DuplicateCandidate> out;
  KASSA_TRY(index.Read([&](const IndexSnapshot& snapshot) { return FindInSnapshot(snapshot, customer, query, out); }));
  return out;
}

}  // namespace kassa::search
