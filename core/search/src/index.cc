#include "kassa/search/index.h"

#include <algorithm>

#include "kassa/model/customer.h"
#include "kassa/model/email.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"

namespace kassa::search {

const char* ToString(MatchedField f) {
  switch (f) {
    case MatchedField::kFirstName: return "first name";
    case MatchedField::kLastName: return "last name";
    case MatchedField::kOrganizationName: return "organization name";
    case MatchedField::kEmail: return "email";
    case MatchedField::kSecondaryEmail: return "secondary email";
    case MatchedField::kPhone: return "phone";
    case MatchedField::kSecondaryPhone: return "secondary phone";
    case MatchedField::kAddressPhone: return "address phone";
    case MatchedField::kAccount: return "account number";
    case MatchedField::kLoyaltyCard: return "loyalty card";
  }
  return "unknown";
}

namespace {

class EntryList {
 public:
  void Add(IndexKind kind, std::string term, MatchedField field, const std::string& detail = {}) {
    if (term.size() > kMaxIndexTermBytes) term.resize(kMaxIndexTermBytes);
    const bool seen = std::any_of(entries_.begin(), entries_.end(), [&](const IndexEntry& e) {
      return e.kind == kind && e.term == term;
    });
    if (!seen) entries_.push_back({kind, std::move(term), field, detail});
  }
  void AddNames(const std::vector<std::string>& tokens, MatchedField field, const std::string& names) {
    for (const auto& token : tokens) Add(IndexKind::kName, token, field, names);
  }
  // One entry a number: its national number with the country code as the
  // entry's detail; the E.164 digits only when the country code is unknown.
  void AddPhone(std::string_view e164, MatchedField field) {
    if (e164.size() < 2 || e164[0] != '+') return;
    std::string code, national;
    if (!model::SplitNational(e164, code, national)) return Add(IndexKind::kPhoneE164, std::string(e164.substr(1)), field);
    Add(IndexKind::kPhoneNational, std::move(national), field, code);
  }
  std::vector<IndexEntry> Take() { return std::move(entries_); }

 private:
  std::vector<IndexEntry> entries_;
};

}  // namespace

std::vector<IndexEntry> IndexEntriesOf(const model::Customer& c) { return IndexEntriesOf(c, std::nullopt); }

std::vector<IndexEntry> IndexEntriesOf(const model::Customer& c, std::optional<IndexKind> only) {
  const auto want = [&](IndexKind k) { return !only || *only == k; };
  EntryList list;
  if (want(IndexKind::kName)) {
    // Each field folded once; the entries' detail lists them as
    // model::CustomerNameTokens() does (first, last, organization, joined).
    const std::vector<std::string> first = model::NameTokens(c.first_name);
    const std::vector<std::string> last = model::NameTokens(c.last_name);
    const std::vector<std::string> organization = model::NameTokens(c.organization_name);
    // A CJK name typed without a space ("王小明" for 王 and 小明).
    const std::vector<std::string> joined = model::JoinedNameTokens(c.last_name, c.first_name);
    std::string names;
    for (const auto* tokens : {&first, &last, &organization, &joined}) {
      for (const auto& token : *tokens) {
        if (!names.empty()) names += ' ';
        names += token.substr(0, kMaxIndexTermBytes);
      }
    }
    // Most specific first: a term found in two fields is reported by the first.
    list.AddNames(last, MatchedField::kLastName, names);
    list.AddNames(first, MatchedField::kFirstName, names);
    list.AddNames(organization, MatchedField::kOrganizationName, names);
    list.AddNames(joined, MatchedField::kLastName, names);
  }
  if (want(IndexKind::kEmail)) {
    if (!c.email.empty()) list.Add(IndexKind::kEmail, model::FoldEmail(c.email), MatchedField::kEmail);
    for (const auto& e : c.secondary_emails) {
      list.Add(IndexKind::kEmail, model::FoldEmail(e.value), MatchedField::kSecondaryEmail);
    }
  }
  if (want(IndexKind::kPhoneNational) || want(IndexKind::kPhoneE164)) {
    list.AddPhone(c.phone, MatchedField::kPhone);
    for (const auto& p : c.secondary_phones) list.AddPhone(p.value, MatchedField::kSecondaryPhone);
    for (const auto& a : c.addresses) list.AddPhone(a.contact_phone, MatchedField::kAddressPhone);
  }
  if (want(IndexKind::kAccount) && !c.account.empty()) {
    list.Add(IndexKind::kAccount, model::AsciiUpper(c.account), MatchedField::kAccount);
  }
  if (want(IndexKind::kLoyaltyCard)) {
    for (const auto& card : c.loyalty_cards) list.Add(IndexKind::kLoyaltyCard, card, MatchedField::kLoyaltyCard);
  }
  return list.Take();
}

}  // namespace kassa::search
