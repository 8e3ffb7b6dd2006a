#include "kassa/customers/customer_service.h"

#include <algorithm>
#include <map>
#include <memory>

#include "kassa/base/log.h"
#include "kassa/model/email.h"
#include "kassa/model/operation.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"
#include "kassa/model/validation.h"

namespace kassa::customers {
namespace {

// Contacts as entered, each consent stamped now, by `operator_id`, here.
std::vector<model::SecondaryContact> StampContacts(const std::vector<ContactInput>& input,
                                                   const std::string& operator_id,
                                                   const std::string& terminal_id, std::int64_t now_ms) {
  std::vector<model::SecondaryContact> out;
  out.reserve(input.size());
  for (const auto& in : input) {
    out.push_back({in.value, {in.consent, now_ms, operator_id, terminal_id, in.consent_text_version}});
  }
  return out;
}

// After normalization: a contact that was already there with the same
// consent value (and, when a text was shown, the same text version) keeps
// its original consent record (when, who, where).
void KeepUnchangedConsents(std::vector<model::SecondaryContact>& after,
                           const std::vector<model::SecondaryContact>& before) {
  for (auto& contact : after) {
    for (const auto& old : before) {
      if (model::FoldEmail(old.value) == model::FoldEmail(contact.value) &&
          old.consent.granted == contact.consent.granted &&
          (contact.consent.text_version.empty() || old.consent.text_version == contact.consent.text_version)) {
        contact.consent = old.consent;
      }
    }
  }
}

// The primary contact's consent after normalization: none without the
// contact, none once the contact changed unless the patch gave one, and the
// original stamp when neither the contact nor its consent changed.
void SettlePrimaryConsent(const std::string& contact, model::Consent& consent, bool given,
                          const std::string* before_contact, const model::Consent* before_consent) {
  if (contact.empty()) {
    if (!given || !consent.granted) consent = model::Consent{};
    return;  // a grant given without a contact is refused by validation
  }
  if (before_contact == nullptr) return;
  const bool same_contact = model::FoldEmail(*before_contact) == model::FoldEmail(contact);
  if (!given) {
    if (!same_contact) consent = model::Consent{};
    return;
  }
  if (same_contact && before_consent->granted == consent.granted &&
      (consent.text_version.empty() || before_consent->text_version == consent.text_version)) {
    consent = *before_consent;
  }
}

}  // namespace

CustomerService::CustomerService(storage::CustomerTable& store, Clock& clock, std::string terminal_id,
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
  if (p.email_consent) {
    c.email_consent = {p.email_consent->granted, now_ms, operator_id, terminal_id_, p.email_consent->text_version};
  }
  if (p.phone_consent) {
    c.phone_consent = {p.phone_consent->granted, now_ms, operator_id, terminal_id_, p.phone_consent->text_version};
  }
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
  SettlePrimaryConsent(c.email, c.email_consent, p.email_consent.has_value(), before ? &before->email : nullptr,
                       before ? &before->email_consent : nullptr);
  SettlePrimaryConsent(c.phone, c.phone_consent, p.phone_consent.has_value(), before ? &before->phone : nullptr,
                       before ? &before->phone_consent : nullptr);
  return Status::Ok();
}

Result<model::Operation> CustomerService::PrepareCreate(const CustomerPatch& patch,
                                                        const std::string& operator_id) const {
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
  // A customer is created once: its id names its creation too (which the
  // link then need not send twice).
  op.op_id = c.id;
  op.kind = model::OperationKind::kCreateCustomer;
  op.enqueued_at_ms = now;
  op.customer = std::move(c);
  op.terminal_id = terminal_id_;
  op.operator_id = operator_id;
  KASSA_TRY(RecordConsents(nullptr, op));
  return op;
}

Result<model::Operation> CustomerService::NewOperation(model::OperationKind kind, const model::Customer& c,
                                                       const std::string& operator_id, std::int64_t now_ms) const {
  model::Operation op;
  KASSA_TRY_ASSIGN(op.op_id, model::LocalId::Generate());
  op.kind = kind;
  op.enqueued_at_ms = now_ms;
  op.customer = c;
  op.terminal_id = terminal_id_;
  op.operator_id = operator_id;
  return op;
}

Status CustomerService::RecordConsents(const model::Customer* before, model::Operation& op) const {
  op.consents = model::ConsentChanges(before, op.customer);
  for (model::ConsentEntry& e : op.consents) {
    KASSA_TRY_ASSIGN(e.id, model::LocalId::Generate());
    e.at_ms = op.enqueued_at_ms;
    e.terminal_id = op.terminal_id;
    e.operator_id = op.operator_id;
  }
  return Status::Ok();
}

Result<model::Customer> CustomerService::StorePending(const model::Operation& create, bool offline_fallback) {
  if (offline_fallback && !config_.allow_offline_creation) {
    return Status(StatusCode::kUnavailable,
                  "creation: headquarters is unreachable and this store does not allow creating customers offline");
  }
  KASSA_TRY(store_.Create(create.customer, &create));
  KASSA_LOG(kInfo) << "created customer " << create.customer.id.ToHex() << " (pending sync"
                   << (offline_fallback ? ", headquarters offline" : "") << ")";
  if (headquarters_ != nullptr) headquarters_->OutboxChanged();
  return create.customer;
}

namespace {

Status Refused(const Access& access) {
  return access.state == AccessState::kWiped
             ? Status(StatusCode::kFailedPrecondition, "terminal: wiped by order of headquarters; enrol it anew")
             : Status(StatusCode::kFailedPrecondition,
                      "terminal: customer data is locked until headquarters is reached again");
}

}  // namespace

const char* ToString(AccessState state) {
  switch (state) {
    case AccessState::kOpen: return "open";
    case AccessState::kLocked: return "locked";
    case AccessState::kWiped: return "wiped";
  }
  return "unknown";
}

Result<model::Customer> CustomerService::Create(const CustomerPatch& patch, const std::string& operator_id) {
  if (!access_.open()) return Refused(access_);
  KASSA_TRY_ASSIGN(const model::Operation op, PrepareCreate(patch, operator_id));
  return StorePending(op, config_.creation_mode == model::CreationMode::kSync);
}

void CustomerService::CreateAsync(const CustomerPatch& patch, const std::string& operator_id, CustomerCallback done) {
  if (!access_.open()) return done(Refused(access_));
  auto prepared = PrepareCreate(patch, operator_id);
  if (!prepared.ok()) return done(prepared.status());
  const bool sync = config_.creation_mode == model::CreationMode::kSync;
  if (!sync || headquarters_ == nullptr || !headquarters_->online()) {
    return done(StorePending(*prepared, sync));
  }
  auto op = std::make_shared<model::Operation>(std::move(*prepared));
  headquarters_->ApplyNow(*op, [this, op, done = std::move(done)](Result<model::OperationAck> ack) {
    if (!ack.ok()) {
      if (!config_.allow_offline_creation) {
        // The request may have reached headquarters before the answer was
        // lost: say so, so nobody creates the customer a second time.
        KASSA_LOG(kWarning) << "real-time create of " << op->customer.id.ToHex() << " unanswered ("
                            << ack.status().detail() << ") and offline creation is forbidden";
        return done(Status(StatusCode::kUnavailable,
                           "creation: headquarters did not answer; search the chain for the customer before "
                           "creating them again"));
      }
      // No answer in time: fall back to async with the same operation id, so
      // headquarters creates the customer once whichever copy arrives first.
      KASSA_LOG(kWarning) << "real-time create failed (" << ack.status().detail() << "); creating offline";
      return done(StorePending(*op, /*offline_fallback=*/true));
    }
    if (!ack->applied()) {
      KASSA_LOG(kWarning) << "headquarters refused customer " << op->customer.id.ToHex() << ": " << ack->reason;
      return done(Status(StatusCode::kFailedPrecondition, "headquarters: refused the customer (the reason is in the log)"));
    }
    model::Customer created = op->customer;
    created.account = ack->account;
    created.version = ack->version;
    if (Status s = store_.ApplyHeadquartersCustomer(created); !s.ok()) return done(s);
    KASSA_LOG(kInfo) << "created customer " << created.account << " at headquarters";
    return done(store_.Get(created.id));
  });
}

void CustomerService::SearchChain(const std::string& query, std::size_t limit, Headquarters::SearchCallback done) {
  if (!access_.open()) return done(Refused(access_));
  if (headquarters_ == nullptr || !headquarters_->online()) {
    return done(Status(StatusCode::kUnavailable, "headquarters: unreachable; search the terminal's own customers"));
  }
  headquarters_->SearchChain(query, limit, std::move(done));
}

Result<model::Customer> CustomerService::Edit(std::string_view ref, const CustomerPatch& patch,
                                              std::uint32_t expected_version, const std::string& operator_id) {
  if (!access_.open()) return Refused(access_);
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

  KASSA_TRY_ASSIGN(model::Operation op, NewOperation(model::OperationKind::kUpdateCustomer, after, operator_id, now));
  op.base_version = before.version;
  op.changed_fields = std::move(changed);
  op.base = model::BaseOf(before, op.changed_fields);
  KASSA_TRY(RecordConsents(&before, op));
  // The store re-checks the version inside its transaction: two edits racing
  // from two screens cannot both pass.
  KASSA_TRY(store_.Replace(after, expected_version, &op));
  if (headquarters_ != nullptr) headquarters_->OutboxChanged();
  return after;
}

Result<model::Customer> CustomerService::ResendRejected(const storage::QuarantineEntry& rejected,
                                                        const CustomerPatch& patch, const std::string& operator_id) {
  if (!access_.open()) return Refused(access_);
  const model::OperationKind kind = rejected.operation.kind;
  if (kind != model::OperationKind::kCreateCustomer && kind != model::OperationKind::kUpdateCustomer) {
    return Status(StatusCode::kFailedPrecondition,
                  "quarantine: a rejected book or timeline entry is discarded, not resent");
  }
  auto stored = store_.Get(rejected.operation.customer.id);
  if (!stored.ok() && stored.status().code() == StatusCode::kNotFound) {
    return Status(StatusCode::kFailedPrecondition, "quarantine: the customer is no longer on this terminal");
  }
  KASSA_TRY_ASSIGN(const model::Customer before, std::move(stored));
  const std::int64_t now = clock_.NowMs();
  // An edit: the values headquarters refused, back in place before the fix.
  model::Customer wanted = before;
  if (kind == model::OperationKind::kUpdateCustomer) {
    for (const std::uint32_t field : rejected.operation.changed_fields) {
      model::CopyField(field, rejected.operation.customer, wanted);
    }
  }
  model::Customer after = wanted;
  KASSA_TRY(ApplyPatch(patch, &wanted, operator_id, now, after));
  after.changed_at_ms = now;
  KASSA_TRY_ASSIGN(model::Operation op, NewOperation(kind, after, operator_id, now));
  if (kind == model::OperationKind::kUpdateCustomer) {
    after.version = before.version + 1;
    op.customer = after;
    op.base_version = before.version;
    std::vector<std::uint32_t> changed = model::ChangedFields(before, after);
    changed.insert(changed.end(), rejected.operation.changed_fields.begin(), rejected.operation.changed_fields.end());
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    op.changed_fields = std::move(changed);
    op.base = model::BaseOf(before, op.changed_fields);
    KASSA_TRY(RecordConsents(&before, op));
  } else {
    KASSA_TRY(RecordConsents(nullptr, op));
  }
  KASSA_TRY(store_.ResendRejected(rejected.seq, after, op));
  KASSA_LOG(kInfo) << "resent the " << model::ToString(kind) << " of customer " << after.id.ToHex()
                   << " (rejected as outbox " << rejected.seq << ") as operation " << op.op_id.ToHex();
  if (headquarters_ != nullptr) headquarters_->OutboxChanged();
  return after;
}

void CustomerService::DiscardRejected(const storage::QuarantineEntry& rejected, const std::string& operator_id,
                                      std::function<void(Status)> done) {
  if (!access_.open()) return done(Refused(access_));
  const std::uint64_t seq = rejected.seq;
  const auto discard = [this, seq, operator_id, kind = rejected.operation.kind](const model::Customer* copy) {
    Status s = store_.DiscardRejected(seq, copy);
    if (s.ok()) {
      KASSA_LOG(kInfo) << "discarded the rejected " << model::ToString(kind) << " (outbox " << seq << ") for "
                       << operator_id << (copy != nullptr ? "; the customer has headquarters' values again" : "");
    }
    return s;
  };
  if (rejected.operation.kind != model::OperationKind::kUpdateCustomer) return done(discard(nullptr));
  // An edit: the customer goes back to what headquarters has.
  auto local = store_.Get(rejected.operation.customer.id);
  if (!local.ok() || local->pending()) return done(discard(nullptr));
  if (headquarters_ == nullptr || !headquarters_->online()) {
    return done(Status(StatusCode::kUnavailable,
                       "headquarters: unreachable; discarding a rejected edit needs headquarters' copy of the customer"));
  }
  headquarters_->SearchChain(local->account, 5, [discard, id = local->id, done = std::move(done)](
                                                    Result<std::vector<model::Customer>> found) {
    if (!found.ok()) return done(found.status());
    for (const auto& c : *found) {
      if (c.id == id) return done(discard(&c));
    }
    done(Status(StatusCode::kNotFound, "headquarters: it does not have this customer"));
  });
}

Result<model::Customer> CustomerService::Find(std::string_view ref) {
  if (!access_.open()) return Refused(access_);
  ref = model::Trim(ref);
  if (const auto id = model::LocalId::FromHex(ref)) {
    auto c = store_.Get(*id);
    if (c.ok() || c.status().code() != StatusCode::kNotFound) return c;
  }
  if (!ref.empty()) {
    KASSA_TRY_ASSIGN(const auto id, search::FindByAccount(store_, ref));
    if (id) return store_.Get(*id);
  }
  return Status(StatusCode::kNotFound, "customer: no customer with this account number or id");
}

Result<std::vector<search::DuplicateCandidate>> CustomerService::LikelyDuplicates(const CustomerPatch& patch,
                                                                                 const std::string& operator_id,
                                                                                 bool contacts_only) {
  if (!access_.open()) return Refused(access_);
  KASSA_TRY_ASSIGN(const model::Operation create, PrepareCreate(patch, operator_id));
  return search::FindDuplicates(store_, create.customer, search::DuplicateQuery{contacts_only});
}

Result<std::vector<SearchResult>> CustomerService::Search(std::string_view query, std::size_t limit) {
  if (!access_.open()) return Refused(access_);
  return search::SearchCustomers(store_, query, limit, config_.operating_unit_country);
}

}  // namespace kassa::customers
