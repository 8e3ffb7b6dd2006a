#include "kassa/hq/registry.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "kassa/base/log.h"
#include "kassa/crypto/pin_hash.h"
#include "kassa/crypto/sha256.h"
#include "kassa/model/validation.h"

namespace kassa::hq {
namespace json = boost::json;

namespace {

// Client-book numbers: CB000001, CB000002, ...
const AccountFormat kBookNumbers{"CB", 6};

// Log entries read per distribution call at most: bounds the work for a
// store whose legal entity has few of the log's changes.
constexpr std::size_t kMaxScan = 4096;

std::string ConfigText(const ChainConfig& c) { return json::serialize(ChainConfigToJson(c, /*with_secrets=*/true)); }

}  // namespace

Registry::Registry(storage::ChainStore& store, Clock& clock, ChainConfig config,
                   std::map<std::string, storage::TerminalRecord> terminals)
    : store_(store), clock_(clock), config_(std::move(config)), terminals_(std::move(terminals)) {}

Result<std::unique_ptr<Registry>> Registry::Open(storage::ChainStore& store, Clock& clock,
                                                 std::optional<ChainConfig> initial) {
  KASSA_TRY_ASSIGN(const auto saved_text, store.LoadConfigText());
  std::optional<ChainConfig> saved;
  if (saved_text) {
    boost::system::error_code ec;
    const json::value v = json::parse(*saved_text, ec);
    ChainConfig parsed;
    std::string field;
    if (ec || !ParseChainConfig(v, parsed, field).ok()) {
      return Status(StatusCode::kDataLoss, "config: the configuration saved in the store does not parse");
    }
    KASSA_TRY_ASSIGN(saved, SealBadges(store, std::move(parsed)));
  }
  if (initial) {
    KASSA_TRY_ASSIGN(initial, SealBadges(store, std::move(*initial)));
  }
  if (!initial && !saved) {
    return Status(StatusCode::kFailedPrecondition,
                  "config: this data directory has no chain configuration yet; start once with --config FILE");
  }
  KASSA_TRY_ASSIGN(const auto records, store.Terminals());
  std::map<std::string, storage::TerminalRecord> terminals;
  for (const auto& t : records) terminals.emplace(t.terminal_id, t);
  auto registry = std::unique_ptr<Registry>(
      new Registry(store, clock, saved ? *saved : ChainConfig{}, std::move(terminals)));
  KASSA_TRY_ASSIGN(const auto wipes, store.WipeOrders());
  for (const auto& w : wipes) registry->wipes_.emplace(w.terminal_id, w);
  if (initial && (!saved || !(*initial == *saved))) {
    if (saved) registry->config_ = *saved;
    KASSA_TRY(registry->ReplaceConfig(*initial, "kassa-hq --config"));  // logs its warnings
  } else {
    for (const std::string& warning : registry->config_.Warnings()) KASSA_LOG(kWarning) << warning;
  }
  return registry;
}

Result<ChainConfig> Registry::SealBadges(storage::ChainStore& store, ChainConfig config) {
  KASSA_TRY_ASSIGN(const std::string root, store.ChainSecret("badge"));
  for (auto& le : config.legal_entities) {
    const auto key = crypto::HmacSha256(AsBytes(root), AsBytes("kassa badge key v1 " + le.id));
    le.clienteling.badge_key.assign(reinterpret_cast<const char*>(key.data()), key.size());
    for (auto& op : le.operators) {
      if (op.badge.empty()) continue;
      op.badge_hmac = crypto::BadgeHmac(le.clienteling.badge_key, op.badge);
      op.badge.clear();
    }
  }
  return config;
}

Status Registry::ReplaceConfig(const ChainConfig& given, std::string_view who) {
  // Consent texts are records: the ledger names them, so a text once
  // published stays, word for word (a new wording is a new version).
  for (const auto& old : config_.legal_entities) {
    const LegalEntity* now = given.FindLegalEntity(old.id);
    for (const model::ConsentText& t : old.clienteling.consent_texts) {
      const model::ConsentText* kept = now == nullptr ? nullptr : now->clienteling.FindConsentText(t.id, t.Reference());
      if (kept == nullptr || kept->text != t.text) {
        KASSA_LOG(kWarning) << "refused a configuration that drops or rewords consent text " << t.id << " "
                            << t.Reference() << " of " << old.id;
        return kassa::Status(StatusCode::kInvalidArgument,
                             "consent_texts: a published consent text is kept word for word; publish a new version instead");
      }
    }
  }
  KASSA_TRY_ASSIGN(const ChainConfig config, SealBadges(store_, RecordFormerStores(given, config_)));
  std::vector<std::string> changed;
  // Clienteling records that differ from the configuration before, per legal entity.
  std::vector<std::pair<std::string, model::ClientelingRecord>> clienteling;
  for (const auto& le : config.legal_entities) {
    for (const auto& s : le.stores) {
      const model::StoreConfig* before = config_.FindStore(s.store_id);
      if (before == nullptr || !(*before == s)) changed.push_back(s.store_id);
    }
    const LegalEntity* old = config_.FindLegalEntity(le.id);
    // A legal entity without roles has no clienteling to distribute.
    const bool had = old != nullptr && !old->clienteling.roles.empty();
    if ((had || !le.clienteling.roles.empty()) && (old == nullptr || !(old->clienteling == le.clienteling))) {
      model::ClientelingRecord r;
      r.config = le.clienteling;
      clienteling.emplace_back(le.id, std::move(r));
    }
    for (const auto& op : le.operators) {
      const model::Operator* was = old != nullptr ? old->FindOperator(op.worker_id) : nullptr;
      if (was != nullptr && *was == op) continue;
      model::ClientelingRecord r;
      r.op = op;
      clienteling.emplace_back(le.id, std::move(r));
    }
    // An operator no longer configured is distributed once more, inactive:
    // terminals then refuse their sign-in.
    if (old == nullptr) continue;
    for (const auto& op : old->operators) {
      if (le.FindOperator(op.worker_id) != nullptr || !op.active) continue;
      model::ClientelingRecord r;
      r.op = op;
      r.op->active = false;
      clienteling.emplace_back(le.id, std::move(r));
    }
  }
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    KASSA_TRY(txn.SaveConfigText(ConfigText(config)));
    for (const auto& id : changed) KASSA_TRY(txn.AppendStoreConfigChange(id));
    for (const auto& [entity, record] : clienteling) KASSA_TRY(txn.ApplyClienteling(entity, record));
    return txn.AppendAudit(clock_.NowMs(), who,
                           "chain configuration replaced: " + std::to_string(changed.size()) + " store(s) changed");
  }));
  config_ = config;
  for (const std::string& warning : config_.Warnings()) KASSA_LOG(kWarning) << warning;
  KASSA_LOG(kInfo) << "chain configuration saved; " << changed.size() << " store configuration(s) and "
                   << clienteling.size() << " clienteling record(s) to distribute";
  return kassa::Status::Ok();
}

Result<std::size_t> Registry::ImportMeasures(std::string_view legal_entity,
                                             const std::vector<model::CustomerMeasures>& measures, std::string_view who) {
  if (config_.FindLegalEntity(legal_entity) == nullptr) {
    return kassa::Status(StatusCode::kNotFound, "legal_entity: not in headquarters' configuration");
  }
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    for (const auto& m : measures) {
      KASSA_TRY_ASSIGN(const auto customer, txn.FindCustomer(m.customer_id));
      if (!customer) return kassa::Status(StatusCode::kNotFound, "customer: not at headquarters");
      model::ClientelingRecord r;
      r.measures = m;
      KASSA_TRY(txn.ApplyClienteling(legal_entity, r));
    }
    return txn.AppendAudit(clock_.NowMs(), who,
                           "POST /v1/measures?legal_entity=" + std::string(legal_entity) + ": " +
                               std::to_string(measures.size()) + " customers");
  }));
  KASSA_LOG(kInfo) << "imported the measures of " << measures.size() << " customer(s) of " << legal_entity;
  return measures.size();
}

Result<storage::TerminalRecord> Registry::Hello(const model::Hello& hello) {
  if (hello.terminal_id.empty()) return kassa::Status(StatusCode::kInvalidArgument, "terminal: empty terminal id");
  if (config_.FindStore(hello.store_id) == nullptr) {
    return kassa::Status(StatusCode::kNotFound, "store: not in headquarters' configuration");
  }
  storage::TerminalRecord record;
  if (auto it = terminals_.find(hello.terminal_id); it != terminals_.end()) record = it->second;
  record.terminal_id = hello.terminal_id;
  record.store_id = hello.store_id;
  KASSA_TRY_ASSIGN(const storage::ChainStats stats, store_.Stats());
  // What the terminal holds now; past our log means we were restored, and it
  // starts over from the beginning (LinkServer and the uplink both reset).
  record.cursor = hello.distribution_cursor > stats.head_seq ? 0 : hello.distribution_cursor;
  record.last_seen_ms = clock_.NowMs();
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) { return txn.PutTerminal(record); }));
  terminals_[record.terminal_id] = record;
  return record;
}

namespace {

// The codes ClientelingRecordOf refuses an operation with (everything else
// is a failure of the store).
bool IsRefusal(const Status& s) {
  return s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kFailedPrecondition;
}

}  // namespace

namespace {

// The access event of an applied operation: who changed the customer, where
// and when (the terminal's clock), numbered by headquarters.
model::AccessEvent ChangeEvent(const storage::TerminalRecord& from, const model::Operation& op,
                               model::AccessAction action) {
  return model::AccessEvent{op.customer.id, action, op.enqueued_at_ms, from.terminal_id,
                            op.operator_id.empty() ? "unknown" : op.operator_id, 0};
}

// The timeline entry that reports a conflict: `field` of customer `was`
// replaced by `op`, an edit that did not see the value it replaced.
Result<model::TimelineEntry> ConflictEntry(const model::Operation& op, std::uint32_t field, const model::Customer& was,
                                           std::int64_t now_ms) {
  model::TimelineEntry e;
  KASSA_TRY_ASSIGN(e.id, model::LocalId::Generate());
  e.customer_id = op.customer.id;
  e.kind = model::TimelineKind::kConflict;
  e.activity_type = model::FieldName(field);
  e.at_ms = now_ms;
  e.worker_id = op.operator_id;
  e.text = model::FieldText(field, was);
  return e;
}

}  // namespace

Result<model::OperationAck> Registry::ApplyOne(storage::ChainTxn& txn, const storage::TerminalRecord& from,
                                               const model::Operation& op, std::vector<RoundConsent>& consents) {
  KASSA_TRY_ASSIGN(auto seen, txn.FindOutcome(op.op_id));
  if (seen) return *seen;  // applied (or refused) before: the same answer again
  KASSA_TRY_ASSIGN(const auto erased, txn.FindErasure(op.customer.id));

  model::OperationAck ack;
  ack.op_id = op.op_id;
  ack.customer_id = op.customer.id;
  const auto reject = [&](std::string reason) -> Result<model::OperationAck> {
    KASSA_LOG(kWarning) << "rejected operation " << op.op_id.ToHex() << " from " << from.terminal_id << ": " << reason;
    ack.outcome = model::OperationAck::Outcome::kRejected;
    ack.reason = std::move(reason);
    KASSA_TRY(txn.RecordOutcome(ack));
    return ack;
  };
  // Erasure wins over everything that comes after it: an edit queued on a
  // terminal that was offline does not bring the customer back.
  if (erased) return reject("customer: erased at headquarters");
  const model::StoreConfig* store = config_.FindStore(from.store_id);
  if (store == nullptr) return reject("store: " + from.store_id + " is not in headquarters' configuration");

  const LegalEntity* le = config_.FindLegalEntity(store->legal_entity);
  if (le == nullptr) return reject("store: its legal entity is not in headquarters' configuration");
  KASSA_TRY_ASSIGN(const auto current, txn.FindCustomer(op.customer.id));
  if (current) {
    // A terminal acts only on its own legal entity's customers, whatever it sends.
    KASSA_TRY_ASSIGN(const auto owner, txn.LegalEntityOf(op.customer.id));
    if (owner != store->legal_entity) return reject("customer: belongs to another legal entity");
  }
  if (!op.operator_id.empty()) {
    // Who did it must be an operator of this terminal's store (a creation
    // made offline by an operator deactivated since still counts).
    const model::Operator* by = le->FindOperator(op.operator_id);
    if (by == nullptr || !by->WorksIn(from.store_id)) {
      return reject("operator_id: not an operator of the terminal's store");
    }
  }
  if (op.clienteling()) {
    if (!current) return reject("customer: unknown at headquarters (its creation was rejected or never arrived)");
    model::ClientelingRecord record;
    if (const Status refused = ClientelingRecordOf(txn, *le, op, record); !refused.ok()) {
      // Storage failures fail the batch; a refusal rejects this operation only.
      if (!IsRefusal(refused)) return refused;
      return reject(refused.detail());
    }
    KASSA_TRY(txn.ApplyClienteling(le->id, record));
    KASSA_TRY(txn.AppendAccessEvent(ChangeEvent(from, op, model::AccessAction::kChanged)));
    ack.outcome = model::OperationAck::Outcome::kApplied;
    ack.account = current->account;
    ack.version = current->version;
    KASSA_TRY(txn.RecordOutcome(ack));
    return ack;
  }
  model::Customer next;
  std::vector<std::uint32_t> lost;  // fields whose value here this edit replaced, unseen by it
  if (op.kind == model::OperationKind::kCreateCustomer) {
    if (current) return reject("id: a customer with this id exists at headquarters");
    next = op.customer;
    if (kassa::Status v = model::ValidateCustomer(next, *store); !v.ok()) return reject(v.detail());
    KASSA_TRY_ASSIGN(const std::uint64_t n, txn.NextAccountNumber());
    const auto account = config_.account_numbers.Format(n);
    if (!account) return reject("account: the account number sequence is exhausted (raise account_numbers.digits)");
    next.account = *account;
    next.version = 1;
    // SPEC: from the group of the store's default customer, never from the default customer itself.
    next.financial_dimensions = config_.DimensionsOf(store->legal_entity, store->default_customer.customer_group);
  } else {
    if (!current) return reject("customer: unknown at headquarters (its creation was rejected or never arrived)");
    next = *current;
    // A field this edit changed that was changed elsewhere too since the
    // edit's base, to another value: the later arrival wins (as ever), and
    // the value it replaces is reported on the customer's timeline.
    if (op.base && op.base_version != current->version) {
      for (const std::uint32_t field : op.changed_fields) {
        if (!model::SameField(field, *op.base, *current) && !model::SameField(field, op.customer, *current)) {
          lost.push_back(field);
        }
      }
    }
    // Field by field: only what this edit changed; a concurrent edit of
    // other fields made elsewhere survives.
    for (const std::uint32_t field : op.changed_fields) model::CopyField(field, op.customer, next);
    if (op.base_version != current->version) {
      KASSA_LOG(kInfo) << "customer " << current->account << ": edit from " << from.terminal_id << " based on version "
                       << op.base_version << " merged field by field over version " << current->version;
    }
    if (kassa::Status v = model::ValidateCustomer(next, *store); !v.ok()) return reject(v.detail());
    next.version = current->version + 1;
    next.changed_at_ms = op.customer.changed_at_ms;
  }
  for (const model::ConsentEntry& e : op.consents) {
    if (e.customer_id != op.customer.id || e.contact.empty() || e.id.is_zero()) {
      return reject("consents: an entry names another customer, no contact or no id");
    }
    // A grant is for a contact the customer has after this operation (a
    // withdrawal may name one the edit removed).
    const bool phone = e.channel == model::ConsentChannel::kPhone;
    const auto& contacts = phone ? next.secondary_phones : next.secondary_emails;
    if (e.granted && (phone ? next.phone : next.email) != e.contact &&
        std::none_of(contacts.begin(), contacts.end(), [&](const auto& c) { return c.value == e.contact; })) {
      return reject("consents: a grant for a contact the customer does not have");
    }
  }
  const kassa::Status put = txn.PutCustomer(next, store->legal_entity);
  if (put.code() == StatusCode::kAlreadyExists) return reject(put.detail());
  KASSA_TRY(put);
  for (const std::uint32_t field : lost) {
    KASSA_TRY_ASSIGN(const model::TimelineEntry conflict, ConflictEntry(op, field, *current, clock_.NowMs()));
    model::ClientelingRecord record;
    record.timeline_entry = conflict;
    KASSA_TRY(txn.ApplyClienteling(le->id, record));
    KASSA_LOG(kInfo) << "customer " << current->account << ": " << model::FieldName(field) << " changed at "
                     << from.terminal_id << " and elsewhere since version " << op.base_version
                     << "; the later edit kept, the conflict on the customer's timeline";
  }
  for (model::ConsentEntry e : op.consents) {
    // Who and where as the link proved them, not as the entry says.
    e.terminal_id = from.terminal_id;
    e.operator_id = op.operator_id;
    consents.push_back({store->legal_entity, std::move(e)});
  }
  KASSA_TRY(txn.AppendAccessEvent(ChangeEvent(from, op,
                                              op.kind == model::OperationKind::kCreateCustomer
                                                  ? model::AccessAction::kCreated
                                                  : model::AccessAction::kChanged)));
  ack.outcome = model::OperationAck::Outcome::kApplied;
  ack.account = next.account;
  ack.version = next.version;
  KASSA_TRY(txn.RecordOutcome(ack));
  return ack;
}

namespace {

// The refusal of an operation whose operator's role lacks `p`, by
// Permission value (Status details are static).
constexpr const char* kRoleRefusals[] = {
    "permission: the operator's role does not allow view_own_book",
    "permission: the operator's role does not allow view_store_books",
    "permission: the operator's role does not allow add_to_book",
    "permission: the operator's role does not allow remove_from_book",
    "permission: the operator's role does not allow reassign",
    "permission: the operator's role does not allow create_customer",
    "permission: the operator's role does not allow edit_customer",
    "permission: the operator's role does not allow add_activity",
    "permission: the operator's role does not allow add_note",
};
static_assert(std::size(kRoleRefusals) == model::kPermissionCount);

Status RoleRefuses(model::Permission p) {
  return Status(StatusCode::kPermissionDenied, kRoleRefusals[static_cast<std::size_t>(p)]);
}

Status Refused(const char* reason) { return Status(StatusCode::kFailedPrecondition, reason); }

}  // namespace

// What clienteling operation `op` stores at headquarters, in `record`: the
// operator's permission checked again against headquarters' configuration,
// so a terminal cannot grant more; the associate's book numbered with its
// first entry.
Status Registry::ClientelingRecordOf(storage::ChainTxn& txn, const LegalEntity& le, const model::Operation& op,
                                     model::ClientelingRecord& record) {
  if (op.timeline_entry && op.timeline_entry->kind == model::TimelineKind::kConflict) {
    return Refused("timeline_entry.kind: conflicts are headquarters' own");
  }
  const model::Operator* by = le.FindOperator(op.operator_id);
  const model::Role* role = by != nullptr && by->active ? le.clienteling.FindRole(by->role) : nullptr;
  if (role == nullptr) return Refused("operator_id: not an active operator of the legal entity");
  const auto require = [&](model::Permission p) { return role->Allows(p) ? Status::Ok() : RoleRefuses(p); };
  if (op.kind == model::OperationKind::kBookEntry) {
    if (!op.book_entry || op.book_entry->customer_id != op.customer.id) {
      return Refused("book_entry: missing or of another customer");
    }
    model::BookEntry e = *op.book_entry;
    if (le.FindOperator(e.owner) == nullptr) return Refused("book_entry.owner: not an operator of the legal entity");
    const bool own = e.owner == by->worker_id && e.from_owner.empty();
    const model::Permission needed = !own ? model::Permission::kReassign
                                    : e.present ? model::Permission::kAddToBook
                                                : model::Permission::kRemoveFromBook;
    KASSA_TRY(require(needed));
    // A book outlives its associate: one whose operator left the
    // configuration can still be reassigned from.
    if (!e.from_owner.empty() && le.FindOperator(e.from_owner) == nullptr) {
      KASSA_TRY_ASSIGN(const auto left, txn.FindBook(le.id, e.from_owner));
      if (!left) return Refused("book_entry.from_owner: neither an operator of the legal entity nor a book's owner");
    }
    // One book per associate per legal entity: the first entry numbers it.
    KASSA_TRY_ASSIGN(const auto book, txn.FindBook(le.id, e.owner));
    if (book && !book->book_number.empty()) {
      e.book_id = book->book_id;
      e.book_number = book->book_number;
    } else {
      KASSA_TRY_ASSIGN(const std::uint64_t n, txn.NextBookNumber());
      const auto number = kBookNumbers.Format(n);
      if (!number) return Refused("book_entry: the client-book number sequence is exhausted");
      e.book_number = *number;
      if (book) e.book_id = book->book_id;
    }
    record.book_entry = std::move(e);
  } else {
    if (!op.timeline_entry || op.timeline_entry->customer_id != op.customer.id) {
      return Refused("timeline_entry: missing or of another customer");
    }
    const model::TimelineEntry& e = *op.timeline_entry;
    if (e.worker_id != by->worker_id) return Refused("timeline_entry.worker_id: not the operator of the operation");
    const model::Permission needed =
        e.kind == model::TimelineKind::kActivity ? model::Permission::kAddActivity : model::Permission::kAddNote;
    KASSA_TRY(require(needed));
    if (e.kind == model::TimelineKind::kActivity && le.clienteling.FindActivityType(e.activity_type) == nullptr) {
      return Refused("timeline_entry.activity_type: not configured for the legal entity");
    }
    record.timeline_entry = e;
  }
  return Status::Ok();
}

Result<std::vector<std::vector<model::OperationAck>>> Registry::Apply(const std::vector<Batch>& batches) {
  std::vector<std::vector<model::OperationAck>> acks;
  std::map<std::string, storage::TerminalRecord> touched;
  std::vector<model::LocalId> op_ids, customers;
  for (const auto& batch : batches) {
    for (const auto& op : batch.operations) {
      op_ids.push_back(op.op_id);
      customers.push_back(op.customer.id);
    }
  }
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    acks.clear();
    touched.clear();
    KASSA_TRY(txn.Prefetch(op_ids, customers));
    std::vector<RoundConsent> consents;
    for (const auto& batch : batches) {
      auto it = touched.find(batch.terminal_id);
      if (it == touched.end()) {
        const auto known = terminals_.find(batch.terminal_id);
        if (known == terminals_.end()) return kassa::Status(StatusCode::kFailedPrecondition, "terminal: no hello");
        it = touched.emplace(batch.terminal_id, known->second).first;
      }
      storage::TerminalRecord& from = it->second;
      std::vector<model::OperationAck>& out = acks.emplace_back();
      for (const auto& op : batch.operations) {
        KASSA_TRY_ASSIGN(model::OperationAck ack, ApplyOne(txn, from, op, consents));
        if (ack.applied()) {
          ++from.operations_applied;
        } else {
          ++from.rejections;
        }
        out.push_back(std::move(ack));
      }
      from.last_seen_ms = clock_.NowMs();
    }
    KASSA_TRY(RecordConsents(txn, std::move(consents)));
    for (const auto& [id, record] : touched) KASSA_TRY(txn.PutTerminal(record));
    return kassa::Status::Ok();
  }));
  for (auto& [id, record] : touched) terminals_[id] = std::move(record);
  return acks;
}

namespace {

// The contact a consent entry is about, as a ledger key.
std::string ContactKey(const model::ConsentEntry& e) {
  return std::string(e.customer_id.ToHex()) + (e.channel == model::ConsentChannel::kPhone ? "/phone/" : "/email/") +
         e.contact;
}

// Sets the consent of contact `e.contact` in `c` to what the ledger's last
// entry says; false when it already does (or the contact is gone).
bool StampFromLedger(model::Customer& c, const model::ConsentEntry& e) {
  const bool phone = e.channel == model::ConsentChannel::kPhone;
  if ((phone ? c.phone : c.email) == e.contact) {
    model::Consent& consent = phone ? c.phone_consent : c.email_consent;
    if (consent.granted == e.granted) return false;
    consent = model::Consent{e.granted, e.at_ms, e.operator_id, e.terminal_id, e.text_version};
    return true;
  }
  auto& list = phone ? c.secondary_phones : c.secondary_emails;
  for (auto& contact : list) {
    if (contact.value != e.contact) continue;
    if (contact.consent.granted == e.granted) return false;
    contact.consent = model::Consent{e.granted, e.at_ms, e.operator_id, e.terminal_id, e.text_version};
    return true;
  }
  return false;
}

}  // namespace

kassa::Status Registry::RecordConsents(storage::ChainTxn& txn, std::vector<RoundConsent> round) {
  if (round.empty()) return kassa::Status::Ok();
  // One round: when entries for one contact came from more than one
  // terminal, its withdrawals go after its grants (the withdrawal wins);
  // one terminal's own entries keep their order.
  std::map<std::string, std::vector<std::size_t>> by_contact;
  for (std::size_t i = 0; i < round.size(); ++i) by_contact[ContactKey(round[i].entry)].push_back(i);
  for (const auto& [contact, at] : by_contact) {
    std::set<std::string> terminals;
    for (const std::size_t i : at) terminals.insert(round[i].entry.terminal_id);
    if (terminals.size() < 2) continue;
    std::vector<RoundConsent> entries;
    for (const std::size_t i : at) entries.push_back(round[i]);
    std::stable_partition(entries.begin(), entries.end(), [](const RoundConsent& r) { return r.entry.granted; });
    for (std::size_t k = 0; k < at.size(); ++k) round[at[k]] = std::move(entries[k]);
    KASSA_LOG(kInfo) << "consent of " << contact.substr(0, 32) << ": grant and withdrawal from "
                     << terminals.size() << " terminals in one round; the withdrawal is last";
  }
  std::map<std::string, const RoundConsent*> last;
  for (RoundConsent& r : round) {
    KASSA_TRY_ASSIGN(r.entry.seq, txn.NextConsentNumber());
    model::ClientelingRecord record;
    record.consent = r.entry;
    KASSA_TRY(txn.ApplyClienteling(r.legal_entity, record));
    last[ContactKey(r.entry)] = &r;
  }
  // The customer's record says what the ledger's last entry says (an edit's
  // field-by-field merge may have brought a grant in after a withdrawal).
  for (const auto& [contact, r] : last) {
    KASSA_TRY_ASSIGN(auto customer, txn.FindCustomer(r->entry.customer_id));
    if (!customer || !StampFromLedger(*customer, r->entry)) continue;
    ++customer->version;
    KASSA_TRY(txn.PutCustomer(*customer, r->legal_entity));
  }
  return kassa::Status::Ok();
}

Result<std::vector<model::Change>> Registry::ChangesFor(std::string_view store_id, std::uint64_t after,
                                                        std::size_t max, std::uint64_t& scanned_to) {
  std::vector<model::Change> out;
  scanned_to = after;
  const model::StoreConfig* store = config_.FindStore(store_id);
  if (store == nullptr) return out;
  KASSA_TRY_ASSIGN(storage::ChangePage page, store_.ReadChanges(after, store->legal_entity, store_id, max, kMaxScan));
  scanned_to = page.scanned_to;
  for (auto& stored : page.changes) {
    model::Change change;
    change.seq = stored.seq;
    change.kind = stored.kind;
    if (stored.kind == model::Change::Kind::kCustomerUpsert) {
      change.customer = std::move(*stored.customer);
    } else if (stored.kind == model::Change::Kind::kClienteling) {
      change.clienteling = std::move(*stored.clienteling);
    } else if (stored.kind == model::Change::Kind::kCustomerErased) {
      change.erased = stored.erased;
    } else {
      change.store_config = *store;  // the configuration as it is now
    }
    out.push_back(std::move(change));
  }
  return out;
}

kassa::Status Registry::AckCursor(const std::string& terminal_id, std::uint64_t cursor) {
  auto it = terminals_.find(terminal_id);
  if (it == terminals_.end()) return kassa::Status(StatusCode::kFailedPrecondition, "terminal: no hello");
  it->second.cursor = cursor;  // acknowledgements arrive in order on one connection
  it->second.last_seen_ms = clock_.NowMs();
  unsaved_cursors_.insert(terminal_id);
  return kassa::Status::Ok();
}

kassa::Status Registry::SaveCursors() {
  if (unsaved_cursors_.empty()) return kassa::Status::Ok();
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    for (const auto& id : unsaved_cursors_) {
      if (auto it = terminals_.find(id); it != terminals_.end()) KASSA_TRY(txn.PutTerminal(it->second));
    }
    return kassa::Status::Ok();
  }));
  unsaved_cursors_.clear();
  return kassa::Status::Ok();
}

ErasureStatus Registry::ReceiptsOf(storage::ErasureRecord erasure) const {
  ErasureStatus status{std::move(erasure), {}, {}};
  for (const auto& [id, record] : terminals_) {
    const model::StoreConfig* store = config_.FindStore(record.store_id);
    if (store == nullptr || store->legal_entity != status.erasure.legal_entity) continue;
    (record.cursor >= status.erasure.seq ? status.confirmed : status.pending).push_back(id);
  }
  return status;
}

Result<ErasureStatus> Registry::Erase(const model::LocalId& id, std::optional<std::string_view> legal_entity,
                                      std::string_view who) {
  if (legal_entity && config_.FindLegalEntity(*legal_entity) == nullptr) {
    return kassa::Status(StatusCode::kNotFound, "legal_entity: not in headquarters' configuration");
  }
  storage::ErasureRecord erasure;
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    KASSA_TRY_ASSIGN(const auto owner, txn.LegalEntityOf(id));
    if (owner && legal_entity && *owner != *legal_entity) {
      return kassa::Status(StatusCode::kInvalidArgument, "legal_entity: the customer belongs to another legal entity");
    }
    if (!owner && !legal_entity) {
      return kassa::Status(StatusCode::kNotFound,
                           "customer: not at headquarters; name its legal_entity to erase it where it was created");
    }
    const std::string entity = owner ? *owner : std::string(*legal_entity);
    KASSA_TRY_ASSIGN(erasure, txn.EraseCustomer(id, entity, clock_.NowMs(), who));
    KASSA_TRY(txn.AppendAccessEvent(
        model::AccessEvent{id, model::AccessAction::kErased, clock_.NowMs(), "", std::string(who), 0}));
    return txn.AppendAudit(clock_.NowMs(), who, "customer " + id.ToHex() + " erased (legal entity " + entity + ")");
  }));
  KASSA_LOG(kInfo) << "customer " << id.ToHex() << " erased by " << who << "; change " << erasure.seq
                   << " goes to every terminal of " << erasure.legal_entity;
  return ReceiptsOf(std::move(erasure));
}

Result<std::vector<ErasureStatus>> Registry::Erasures(std::size_t max) {
  KASSA_TRY_ASSIGN(auto erasures, store_.Erasures(max));
  std::vector<ErasureStatus> out;
  out.reserve(erasures.size());
  for (auto& e : erasures) out.push_back(ReceiptsOf(std::move(e)));
  return out;
}

Result<Registry::RetentionStep> Registry::SweepRetention(const std::optional<model::LocalId>& after,
                                                         std::size_t max) {
  constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
  const std::int64_t now = clock_.NowMs();
  RetentionStep step;
  const Retention& r = config_.retention;
  if (r.inactive_customer_years > 0) {
    const std::int64_t cutoff = now - static_cast<std::int64_t>(r.inactive_customer_years) * 36525 * kDayMs / 100;
    KASSA_TRY_ASSIGN(const auto customers, store_.CustomersAfter(after, max));
    step.scanned = customers.size();
    for (const auto& c : customers) {
      step.next = c.id;
      const std::int64_t last = std::max(c.created_at_ms, c.changed_at_ms);
      if (last == 0 || last >= cutoff) continue;  // 0: never stamped, so not known to be inactive
      KASSA_TRY_ASSIGN(const auto entity, store_.LegalEntityOf(c.id));
      KASSA_TRY_ASSIGN(const auto newest, store_.Timeline(entity.value_or(""), c.id, 1));
      if (!newest.empty() && newest.front().at_ms >= cutoff) continue;
      KASSA_TRY(Erase(c.id, std::nullopt, "retention").status());
      ++step.erased;
    }
    step.done = customers.size() < max;
  } else {
    step.done = true;
  }
  if (step.done && r.audit_months > 0) {
    KASSA_TRY_ASSIGN(step.audit_pruned,
                     store_.PruneAudit(now - static_cast<std::int64_t>(r.audit_months) * 3044 * kDayMs / 100));
  }
  if (step.done) {
    KASSA_TRY_ASSIGN(step.markers_pruned, PruneErasureMarkers());
  }
  return step;
}

Result<std::size_t> Registry::PruneErasureMarkers() {
  // Per legal entity, the lowest cursor of its terminals (those of stores
  // still configured: another cannot connect). An entity none of whose
  // terminals ever connected keeps its markers.
  std::map<std::string, std::uint64_t> confirmed;
  for (const auto& [id, t] : terminals_) {
    const model::StoreConfig* store = config_.FindStore(t.store_id);
    if (store == nullptr) continue;
    auto [it, fresh] = confirmed.emplace(store->legal_entity, t.cursor);
    if (!fresh) it->second = std::min(it->second, t.cursor);
  }
  std::size_t pruned = 0;
  for (const auto& [entity, upto] : confirmed) {
    if (upto == 0) continue;
    KASSA_TRY_ASSIGN(const std::size_t n, store_.PruneErasureMarkers(entity, upto));
    pruned += n;
  }
  return pruned;
}

Result<storage::WipeOrder> Registry::OrderWipe(std::string_view terminal_id, std::string_view who) {
  if (terminals_.find(std::string(terminal_id)) == terminals_.end()) {
    return kassa::Status(StatusCode::kNotFound, "terminal: headquarters has never heard from this terminal");
  }
  storage::WipeOrder order{std::string(terminal_id), clock_.NowMs(), std::string(who), 0, ""};
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    KASSA_TRY(txn.PutWipeOrder(order));
    return txn.AppendAudit(order.ordered_ms, who, "terminal " + order.terminal_id + " ordered wiped");
  }));
  KASSA_LOG(kWarning) << "terminal " << order.terminal_id << " ordered wiped by " << who
                      << "; it wipes on its next connection";
  wipes_[order.terminal_id] = order;
  return order;
}

std::optional<storage::WipeOrder> Registry::PendingWipe(std::string_view terminal_id) const {
  const auto it = wipes_.find(std::string(terminal_id));
  if (it == wipes_.end() || it->second.confirmed_ms != 0) return std::nullopt;
  return it->second;
}

kassa::Status Registry::ConfirmWipe(std::string_view terminal_id, std::int64_t ordered_ms,
                                    std::string_view certificate_serial) {
  const auto it = wipes_.find(std::string(terminal_id));
  if (it == wipes_.end() || it->second.ordered_ms != ordered_ms) {
    return kassa::Status(StatusCode::kNotFound, "wipe: no such order for this terminal");
  }
  storage::WipeOrder order = it->second;
  if (order.confirmed_ms != 0) return kassa::Status::Ok();
  order.confirmed_ms = clock_.NowMs();
  order.certificate_serial = std::string(certificate_serial);
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> kassa::Status {
    KASSA_TRY(txn.PutWipeOrder(order));
    if (!order.certificate_serial.empty()) KASSA_TRY(txn.RevokeCertificate(order.certificate_serial, order.confirmed_ms));
    return txn.AppendAudit(order.confirmed_ms, "terminal " + order.terminal_id,
                           "wipe confirmed" + (order.certificate_serial.empty()
                                                   ? std::string(" (plaintext link: no certificate to revoke)")
                                                   : "; certificate " + order.certificate_serial + " revoked"));
  }));
  KASSA_LOG(kWarning) << "terminal " << order.terminal_id << " confirmed its wipe"
                      << (order.certificate_serial.empty() ? "" : "; certificate " + order.certificate_serial + " revoked");
  it->second = std::move(order);
  return kassa::Status::Ok();
}

std::vector<storage::WipeOrder> Registry::WipeOrders() const {
  std::vector<storage::WipeOrder> out;
  out.reserve(wipes_.size());
  for (const auto& [id, order] : wipes_) out.push_back(order);
  return out;
}

Status Registry::Audit(std::string_view who, std::string_view what) {
  return store_.Transact([&](storage::ChainTxn& txn) { return txn.AppendAudit(clock_.NowMs(), who, what); });
}

Result<std::size_t> Registry::RecordAccess(const std::vector<model::AccessEvent>& events) {
  std::size_t refused = 0;
  if (events.empty()) return refused;
  KASSA_TRY(store_.Transact([&](storage::ChainTxn& txn) -> Status {
    refused = 0;
    for (const auto& e : events) {
      if (!e.terminal_id.empty()) {
        // A terminal speaks only of its own legal entity's customers (or of
        // one headquarters does not know yet: created offline, on its way),
        // except what a chain-wide search listed to it.
        const auto terminal = terminals_.find(e.terminal_id);
        const model::StoreConfig* store =
            terminal == terminals_.end() ? nullptr : config_.FindStore(terminal->second.store_id);
        KASSA_TRY_ASSIGN(const auto owner, txn.LegalEntityOf(e.customer));
        const bool chain_listing =
            e.action == model::AccessAction::kListed && config_.chain_search_scope == SearchScope::kChain;
        if (store == nullptr || (owner && *owner != store->legal_entity && !chain_listing)) {
          ++refused;
          continue;
        }
      }
      KASSA_TRY(txn.AppendAccessEvent(e));
    }
    return Status::Ok();
  }));
  if (refused > 0) {
    KASSA_LOG(kWarning) << "access events of " << events.front().terminal_id << ": " << refused
                        << " about customers of another legal entity, not stored";
  }
  return refused;
}

Result<HqStatus> Registry::Report() {
  HqStatus status;
  KASSA_TRY_ASSIGN(status.chain, store_.Stats());
  for (const auto& [id, record] : terminals_) {
    const std::uint64_t lag = status.chain.head_seq > record.cursor ? status.chain.head_seq - record.cursor : 0;
    status.terminals.push_back({record, lag});
    status.operations_applied += record.operations_applied;
    status.rejections += record.rejections;
  }
  return status;
}

}  // namespace kassa::hq
