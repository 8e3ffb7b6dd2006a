#include "kassa/clienteling/clienteling_service.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "kassa/base/log.h"
#include "kassa/model/text.h"

namespace kassa::clienteling {
namespace {

using model::Permission;

Status Invalid(const char* detail) { return Status(StatusCode::kInvalidArgument, detail); }

}  // namespace

ClientelingService::ClientelingService(storage::CustomerTable& customer_table, storage::ClientelingTable& clienteling,
                                       customers::CustomerService& customers,
                                       OperatorSessions& sessions, Clock& clock)
    : customer_table_(customer_table), clienteling_(clienteling), customers_(customers), sessions_(sessions), clock_(clock) {}

Result<model::Operation> ClientelingService::NewOperation(const Caller& caller, const model::Customer& c,
                                                          model::OperationKind kind) {
  model::Operation op;
  KASSA_TRY_ASSIGN(op.op_id, model::LocalId::Generate());
  op.kind = kind;
  op.enqueued_at_ms = clock_.NowMs();
  op.customer.id = c.id;
  op.customer.account = c.account;
  op.terminal_id = customers_.terminal_id();
  op.operator_id = caller.op.worker_id;
  return op;
}

Result<model::BookEntry> ClientelingService::NewEntry(const Caller& caller, const model::Operator& owner,
                                                      const model::Customer& c) {
  model::BookEntry e;
  e.owner = owner.worker_id;
  e.customer_id = c.id;
  e.present = true;
  e.changed_at_ms = clock_.NowMs();
  e.changed_by = caller.op.worker_id;
  KASSA_TRY_ASSIGN(const auto header, clienteling_.BookOf(owner.worker_id));
  if (header) {
    e.book_id = header->book_id;
    e.book_number = header->book_number;
  } else {
    // The first book of this associate made here: a temporary id until
    // headquarters numbers it (the number arrives with the distribution).
    KASSA_TRY_ASSIGN(e.book_id, model::LocalId::Generate());
  }
  return e;
}

Result<BookPage> ClientelingService::Book(const Caller& caller, BookQuery query, std::string& bad_attribute) {
  const auto started = std::chrono::steady_clock::now();
  if (query.limit == 0 || query.limit > kMaxPageSize) return Invalid("limit: from 1 to 500");
  std::set<std::string, std::less<>> owners;
  BookPage page;
  if (query.store) {
    KASSA_TRY(OperatorSessions::Require(caller, Permission::kViewStoreBooks));
    KASSA_TRY_ASSIGN(const auto operators, sessions_.StoreOperators());
    for (const auto& op : operators) owners.insert(op.worker_id);
    // Books outlive their owner's time here.
    KASSA_TRY_ASSIGN(const auto departed, sessions_.DepartedOperators());
    for (const auto& op : departed) {
      owners.insert(op.worker_id);
      page.departed.push_back(op.worker_id);
    }
  } else {
    const std::string owner = query.owner.empty() ? caller.op.worker_id : query.owner;
    KASSA_TRY(OperatorSessions::Require(
        caller, owner == caller.op.worker_id ? Permission::kViewOwnBook : Permission::kViewStoreBooks));
    KASSA_TRY_ASSIGN(const model::Operator op, sessions_.BookOwner(owner));
    if (op.LeftBookIn(sessions_.store_id())) page.departed.push_back(owner);
    owners.insert(owner);
    page.owner = owner;
    KASSA_TRY_ASSIGN(const auto header, clienteling_.BookOf(owner));
    if (header) page.book_number = header->book_number;
  }
  KASSA_TRY(model::ValidateFilter(caller.config, query.filter, bad_attribute));

  // Customer -> the owners holding it and when it was last added.
  struct Holding {
    std::vector<std::string> owners;
    std::int64_t added_at_ms = 0;
  };
  std::map<model::LocalId, Holding> held;
  KASSA_TRY_ASSIGN(const auto entries, clienteling_.BookEntries(query.store ? std::string_view() : *owners.begin()));
  for (const auto& e : entries) {
    if (!owners.contains(e.owner)) continue;
    Holding& h = held[e.customer_id];
    h.owners.push_back(e.owner);
    h.added_at_ms = std::max(h.added_at_ms, e.changed_at_ms);
  }
  const std::int64_t today = clock_.NowMs();
  struct Hit {
    model::Customer customer;
    Holding* holding;
    std::string sort_key;
  };
  // Every customer of the book from one snapshot; one by one only when one
  // is missing here (a book entry that arrived before its customer).
  std::vector<model::LocalId> ids;
  ids.reserve(held.size());
  for (const auto& [id, holding] : held) ids.push_back(id);
  auto many = customer_table_.GetMany(ids);
  if (!many.ok() && many.status().code() != StatusCode::kNotFound) return many.status();
  std::vector<Hit> hits;
  std::size_t at = 0;
  for (auto& [id, holding] : held) {
    Result<model::Customer> c = many.ok() ? Result<model::Customer>(std::move((*many)[at++])) : customer_table_.Get(id);
    if (!c.ok()) {
      if (c.status().code() == StatusCode::kNotFound) continue;
      return c.status();
    }
    if (!model::Matches(caller.config, query.filter, *c, today)) continue;
    std::string key = model::FoldText(model::DisplayName(*c));
    hits.push_back({std::move(*c), &holding, std::move(key)});
  }
  if (query.sort == BookQuery::Sort::kName) {
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.sort_key < b.sort_key; });
  } else {
    std::sort(hits.begin(), hits.end(),
              [](const Hit& a, const Hit& b) { return a.holding->added_at_ms > b.holding->added_at_ms; });
  }
  page.total = hits.size();
  for (std::size_t i = query.offset; i < hits.size() && page.items.size() < query.limit; ++i) {
    KASSA_TRY_ASSIGN(const auto measures, clienteling_.Measures(hits[i].customer.id));
    BookItem item;
    item.card = model::ComposeCard(caller.config, hits[i].customer, measures);
    item.owners = hits[i].holding->owners;
    item.customer = std::move(hits[i].customer);
    page.items.push_back(std::move(item));
  }
  page.query_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  return page;
}

Result<storage::ClientelingWrite> ClientelingService::BookWrite(const Caller& caller, const model::Operator& owner,
                                                                const model::Customer& c, bool present,
                                                                std::string from_owner) {
  KASSA_TRY_ASSIGN(model::BookEntry entry, NewEntry(caller, owner, c));
  entry.present = present;
  entry.from_owner = std::move(from_owner);
  storage::ClientelingWrite write;
  KASSA_TRY_ASSIGN(write.op, NewOperation(caller, c, model::OperationKind::kBookEntry));
  write.op->book_entry = entry;
  write.record.book_entry = std::move(entry);
  return write;
}

Status ClientelingService::Commit(const std::vector<storage::ClientelingWrite>& writes) {
  KASSA_TRY(clienteling_.WriteClienteling(writes));
  if (customers_.headquarters() != nullptr) customers_.headquarters()->OutboxChanged();
  return Status::Ok();
}

Status ClientelingService::ChangeBook(const Caller& caller, std::string_view owner_id, std::string_view customer_ref,
                                      bool add) {
  const std::string owner_name = owner_id.empty() ? caller.op.worker_id : std::string(owner_id);
  const Permission own = add ? Permission::kAddToBook : Permission::kRemoveFromBook;
  KASSA_TRY(OperatorSessions::Require(caller, owner_name == caller.op.worker_id ? own : Permission::kReassign));
  // Only active associates here gain customers; a departed one's book can still lose them.
  KASSA_TRY_ASSIGN(const model::Operator owner,
                   add ? sessions_.StoreOperator(owner_name) : sessions_.BookOwner(owner_name));
  KASSA_TRY_ASSIGN(const model::Customer c, customers_.Find(customer_ref));
  KASSA_TRY_ASSIGN(const bool there, clienteling_.InBook(owner.worker_id, c.id));
  if (there == add) return Status::Ok();  // already so: nothing to queue
  KASSA_TRY_ASSIGN(storage::ClientelingWrite write, BookWrite(caller, owner, c, add, ""));
  return Commit({write});
}

Status ClientelingService::AddToBook(const Caller& caller, std::string_view owner, std::string_view customer_ref) {
  return ChangeBook(caller, owner, customer_ref, true);
}

Status ClientelingService::RemoveFromBook(const Caller& caller, std::string_view owner, std::string_view customer_ref) {
  return ChangeBook(caller, owner, customer_ref, false);
}

Result<std::size_t> ClientelingService::Reassign(const Caller& caller, std::string_view from, std::string_view to,
                                                 const std::vector<std::string>& customer_refs) {
  KASSA_TRY(OperatorSessions::Require(caller, Permission::kReassign));
  KASSA_TRY_ASSIGN(const model::Operator from_op, sessions_.BookOwner(from));
  KASSA_TRY_ASSIGN(const model::Operator to_op, sessions_.StoreOperator(to));
  if (from_op.worker_id == to_op.worker_id) return Invalid("to: the same associate as from");
  if (customer_refs.empty()) return Invalid("customers: none given");
  if (customer_refs.size() > kMaxReassign) return Invalid("customers: at most 500 at once");
  std::vector<storage::ClientelingWrite> writes;
  std::set<model::LocalId> seen;
  for (const auto& ref : customer_refs) {
    KASSA_TRY_ASSIGN(const model::Customer c, customers_.Find(ref));
    if (!seen.insert(c.id).second) continue;
    KASSA_TRY_ASSIGN(const bool there, clienteling_.InBook(from_op.worker_id, c.id));
    if (!there) return Invalid("customers: a customer is not in the book it should leave");
    KASSA_TRY_ASSIGN(storage::ClientelingWrite write, BookWrite(caller, to_op, c, true, from_op.worker_id));
    writes.push_back(std::move(write));
  }
  KASSA_TRY(Commit(writes));
  KASSA_LOG(kInfo) << caller.op.worker_id << " reassigned " << writes.size() << " customer(s) from "
                   << from_op.worker_id << " to " << to_op.worker_id;
  return writes.size();
}

Result<Card> ClientelingService::CardOf(const Caller& caller, std::string_view customer_ref) {
  Card card;
  KASSA_TRY_ASSIGN(card.customer, customers_.Find(customer_ref));
  KASSA_TRY_ASSIGN(const auto measures, clienteling_.Measures(card.customer.id));
  card.facts = model::ComposeCard(caller.config, card.customer, measures);
  KASSA_TRY_ASSIGN(const auto operators, sessions_.StoreOperators());
  for (const auto& op : operators) {
    KASSA_TRY_ASSIGN(const bool there, clienteling_.InBook(op.worker_id, card.customer.id));
    if (there) card.books.push_back(op.worker_id);
  }
  return card;
}

Result<model::TimelineEntry> ClientelingService::Record(const Caller& caller, const model::Customer& c,
                                                        model::TimelineEntry entry) {
  if (entry.text.size() > model::kMaxTimelineTextBytes) return Invalid("text: at most 1000 bytes");
  entry.customer_id = c.id;
  storage::ClientelingWrite write;
  KASSA_TRY_ASSIGN(write.op, NewOperation(caller, c, model::OperationKind::kTimelineEntry));
  entry.id = write.op->op_id;  // one id: the entry's and its operation's
  entry.worker_id = caller.op.worker_id;
  if (entry.at_ms == 0) entry.at_ms = clock_.NowMs();
  write.op->timeline_entry = entry;
  write.record.timeline_entry = entry;
  KASSA_TRY(Commit({write}));
  return entry;
}

Result<model::TimelineEntry> ClientelingService::AddActivity(const Caller& caller, std::string_view customer_ref,
                                                             std::string_view activity_type, std::int64_t at_ms,
                                                             std::string_view text) {
  KASSA_TRY(OperatorSessions::Require(caller, Permission::kAddActivity));
  if (caller.config.FindActivityType(activity_type) == nullptr) {
    return Invalid("activity_type: not an activity type headquarters configured");
  }
  if (at_ms < 0) return Invalid("at: not a time");
  KASSA_TRY_ASSIGN(const model::Customer c, customers_.Find(customer_ref));
  model::TimelineEntry e;
  e.kind = model::TimelineKind::kActivity;
  e.activity_type = std::string(activity_type);
  e.at_ms = at_ms;
  e.text = std::string(text);
  return Record(caller, c, std::move(e));
}

Result<model::TimelineEntry> ClientelingService::AddNote(const Caller& caller, std::string_view customer_ref,
                                                         std::string_view text) {
  KASSA_TRY(OperatorSessions::Require(caller, Permission::kAddNote));
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return Invalid("text: a note needs text");
  KASSA_TRY_ASSIGN(const model::Customer c, customers_.Find(customer_ref));
  model::TimelineEntry e;
  e.kind = model::TimelineKind::kNote;
  e.text = std::string(text);
  return Record(caller, c, std::move(e));
}

Result<std::vector<model::TimelineEntry>> ClientelingService::Timeline(const Caller& caller,
                                                                       std::string_view customer_ref, std::size_t max) {
  (void)caller;  // any signed-in operator of the legal entity reads the timeline
  KASSA_TRY_ASSIGN(const model::Customer c, customers_.Find(customer_ref));
  return clienteling_.Timeline(c.id, max);
}

Result<std::vector<model::ConsentEntry>> ClientelingService::Consents(const Caller& caller,
                                                                      std::string_view customer_ref) {
  (void)caller;  // any signed-in operator of the legal entity reads the ledger, as the customer's details
  KASSA_TRY_ASSIGN(const model::Customer c, customers_.Find(customer_ref));
  return clienteling_.Consents(c.id);
}

}  // namespace kassa::clienteling
