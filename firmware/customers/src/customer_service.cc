#include "kassa/customers/customer_service.h"

#include <algorithm>
#include <map>

#include "kassa/base/log.h"
#include "kassa/model/email.h"
#include "kassa/model/operation.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"
#include "kassa/model/validation.h"

namespace kassa::customers {
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

// Contacts as entered, each consent stamped now, by `operator_id`, here.
std::vector<model::SecondaryContact> StampContacts(const std::vector<ContactInput>& input,
                                                   const std::string& operator_id,
                                                   const std::string& terminal_id, std::int64_t now_ms) {
  std::vector<model::SecondaryContact> out;
  out.reserve(input.size());
  for (const auto& in : input) out.push_back({in.value, {in.consent, now_ms, operator_id, terminal_id}});
  return out;
}

// After normalization: a contact that was already there with the same
// consent value keeps its original consent record (when, who, where).
void KeepUnchangedConsents(std::vector<model::SecondaryContact>& after,
                           const std::vector<model::SecondaryContact>& before) {
  for (auto& contact : after) {
    for (const auto& old : before) {
      if (model::FoldEmail(old.value) == model::FoldEmail(contact.value) &&
          old.consent.granted == contact.consent.granted) {
        contact.consent = old.consent;
      }
    }
  }
}

}  // namespace

CustomerService::CustomerService(storage::CustomerStore& store, hal::Clock& clock, std::string terminal_id,
                                 model::StoreConfig config)
    : store_(store), clock_(clock), terminal_id_(std::move(terminal_id)), config_(std::move(config)) {}

Status CustomerService::ApplyPatch(const CustomerPatch& p, const model::Customer* before,
                                   const std::string& operator_id, std::int64_t now_ms,
                                   model::Customer& c) const {
  if (p.type) c.type = *p.type;
  if (p.first_name) c.first_name = *p.first_name;
  if (p.last_name) c.last_name = *p.last_name;
  if (p.organization_name) c.organization_name = *p.organization_name;
  if (p.email) c.email = *p.email;
  if (p.phone) c.phone = *p.phone;
  if (p.secondary_emails) c.secondary_emails = StampContacts(*p.secondary_emails, operator_id, terminal_id_, now_ms);
  if (p.secondary_phones) c.secondary_phones = StampContacts(*p.secondary_phones, operator_id, terminal_id_, now_ms);
  if (p.addresses) {
    c.addresses.clear();
    for (const auto& in : *p.addresses) {
      c.addresses.push_back(model::Address{in.purpose.value_or(model::DefaultAddressPurpose(c.type)), in.street,
                                           in.city, in.postal_code, in.region,
                                           in.country.value_or(config_.operating_unit_country),
                                           in.contact_name, in.contact_phone});
    }
  }
  if (p.customer_group) c.customer_group = *p.customer_group;
  if (p.receipt_preference) c.receipt_preference = *p.receipt_preference;
  if (p.receipt_email) c.receipt_email = *p.receipt_email;
  if (p.currency) c.currency = *p.currency;
  if (p.language) c.language = *p.language;
  if (p.affiliations) c.affiliations = *p.affiliations;
  if (p.attributes) c.attributes = *p.attributes;
  if (p.loyalty_cards) c.loyalty_cards = *p.loyalty_cards;
  KASSA_TRY(model::NormalizeCustomer(c, config_));
  // Compared only now, when both sides are normalized ("020 7946 0958" is "+442079460958").
  if (before != nullptr) {
    KeepUnchangedConsents(c.secondary_emails, before->secondary_emails);
    KeepUnchangedConsents(c.secondary_phones, before->secondary_phones);
  }
  return Status::Ok();
}

Result<model::Customer> CustomerService::Create(const CustomerPatch& patch, const std::string& operator_id) {
  // No headquarters link in this build: a sync-mode store is offline.
  if (config_.creation_mode == model::CreationMode::kSync && !config_.allow_offline_creation) {
    return Status(StatusCode::kFailedPrecondition,
                  "creation: headquarters is unreachable and this store does not allow creating customers offline");
  }
  const std::int64_t now = clock_.NowMs();
  model::Customer c;
  // The default customer's properties first; the patch overrides them.
  const model::DefaultCustomer& d = config_.default_customer;
  c.type = d.type;
  c.customer_group = d.customer_group;
  c.receipt_preference = d.receipt_preference;
  c.currency = d.currency;
  c.language = d.language;
  c.affiliations = d.affiliations;
  // The receipt email is inherited only when the new customer gives none.
  CustomerPatch effective = patch;
  if (!effective.receipt_email || model::Trim(*effective.receipt_email).empty()) {
    effective.receipt_email = d.receipt_email;
  }
  KASSA_TRY(ApplyPatch(effective, nullptr, operator_id, now, c));

  KASSA_TRY_ASSIGN(c.id, model::LocalId::Generate());
  c.created_at_ms = now;
  c.changed_at_ms = now;
  c.version = 1;

  model::Operation op;
  KASSA_TRY_ASSIGN(op.op_id, model::LocalId::Generate());
  op.kind = model::OperationKind::kCreateCustomer;
  op.enqueued_at_ms = now;
  op.customer = c;
  op.terminal_id = terminal_id_;
  op.operator_id = operator_id;
  KASSA_TRY(store_.Create(c, &op));
  KASSA_LOG(kInfo) << "created customer " << c.id.ToHex() << " (pending sync)";
  return c;
}

Result<model::Customer> CustomerService::Edit(std::string_view ref, const CustomerPatch& patch,
                                              std::uint32_t expected_version, const std::string& operator_id) {
  KASSA_TRY_ASSIGN(const model::Customer before, Find(ref));
  if (before.version != expected_version) {
    return Status(StatusCode::kAborted, "version: the customer was changed by someone else; reload it and edit again");
  }
  const std::int64_t now = clock_.NowMs();
  model::Customer after = before;
  KASSA_TRY(ApplyPatch(patch, &before, operator_id, now, after));
  std::vector<std::uint32_t> changed = model::ChangedFields(before, after);
  if (changed.empty()) return before;
  after.version = before.version + 1;
  after.changed_at_ms = now;

  model::Operation op;
  KASSA_TRY_ASSIGN(op.op_id, model::LocalId::Generate());
  op.kind = model::OperationKind::kUpdateCustomer;
  op.enqueued_at_ms = now;
  op.customer = after;
  op.base_version = before.version;
  op.changed_fields = std::move(changed);
  op.terminal_id = terminal_id_;
  op.operator_id = operator_id;
  // The store re-checks the version inside its transaction: two edits racing
  // from two screens cannot both pass.
  KASSA_TRY(store_.Replace(after, expected_version, &op));
  return after;
}

Result<model::Customer> CustomerService::Find(std::string_view ref) {
  ref = model::Trim(ref);
  if (const auto id = model::LocalId::FromHex(ref)) {
    auto c = store_.Get(*id);
    if (c.ok() || c.status().code() != StatusCode::kNotFound) return c;
  }
  if (!ref.empty()) {
    const std::string account = model::AsciiUpper(ref);
    KASSA_TRY_ASSIGN(const auto hits, store_.ScanPrefix(IndexKind::kAccount, account, 2));
    for (const auto& hit : hits) {
      if (hit.term == account) return store_.Get(hit.id);
    }
  }
  return Status(StatusCode::kNotFound, "customer: no customer with this account number or id");
}

Result<std::vector<SearchResult>> CustomerService::Search(std::string_view query, std::size_t limit) {
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
    KASSA_TRY_ASSIGN(const auto hits, store_.ScanPrefix(kind, term, kMaxCandidates));
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
  if (const std::string digits = model::PhoneSearchDigits(query, config_.operating_unit_country); !digits.empty()) {
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
    KASSA_TRY_ASSIGN(const auto hits, store_.ScanPrefix(IndexKind::kName, driver, kMaxCandidates));
    std::vector<model::LocalId> ids;
    std::map<model::LocalId, MatchedField> driver_field;
    for (const auto& hit : hits) {
      if (driver_field.emplace(hit.id, hit.field).second) ids.push_back(hit.id);
    }
    KASSA_TRY_ASSIGN(std::vector<model::Customer> candidates, store_.GetMany(ids));
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
  KASSA_TRY_ASSIGN(std::vector<model::Customer> rest, store_.GetMany(missing));
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

}  // namespace kassa::customers
