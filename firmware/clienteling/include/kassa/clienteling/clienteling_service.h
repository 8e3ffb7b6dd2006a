#pragma once

// ClientelingService: client books, the customer card and the timeline of
// activities and notes on the terminal (SPEC "Clienteling"), offline first.
// Every change is stored here and queued in the outbox in one transaction
// (ClientelingTable::WriteClienteling); headquarters applies it once and
// distributes it to the legal entity's other terminals.
//
// Permissions (model::Permission, checked here for every call):
//   own book: view_own_book; another associate's book or the store's:
//   view_store_books; add/remove in one's own book: add_to_book /
//   remove_from_book; in another's book, or moving between books: reassign;
//   activities: add_activity; notes: add_note. Reading a customer's card or
//   timeline needs a signed-in operator only. A refusal changes nothing.
//
// Threading: not thread-safe; the service's io_context thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/clienteling/operator_sessions.h"
#include "kassa/customers/customer_service.h"
#include "kassa/base/clock.h"
#include "kassa/model/clienteling.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::clienteling {

struct BookItem {
  model::Customer customer;
  std::vector<model::CardFact> card;
  std::vector<std::string> owners;  // the associates whose book holds the customer (store book: one or more)
};

struct BookQuery {
  std::string owner;       // "": the caller's own book
  bool store = false;      // every book of this store's associates (managers)
  model::BookFilter filter;
  enum class Sort : std::uint8_t { kName, kRecentlyAdded } sort = Sort::kName;
  std::size_t offset = 0;
  std::size_t limit = 50;  // 1..500
};

struct BookPage {
  std::string owner;        // the book's associate ("" for the store book)
  // Associates whose books this store keeps although they no longer work
  // here (deactivated or moved): in the store book, to be reassigned.
  std::vector<std::string> departed{};
  std::string book_number;  // headquarters' number; "" while pending (or store book)
  std::size_t total = 0;    // entries matching the filter
  std::vector<BookItem> items;
  std::int64_t query_us = 0;  // time spent reading and filtering
};

struct Card {
  model::Customer customer;
  std::vector<model::CardFact> facts;
  std::vector<std::string> books;  // owners whose book holds the customer
};

class ClientelingService {
 public:
  static constexpr std::size_t kMaxPageSize = 500;
  static constexpr std::size_t kMaxReassign = 500;

  // REQUIRES: the references outlive the service.
  ClientelingService(storage::CustomerTable& customer_table, storage::ClientelingTable& clienteling,
                     customers::CustomerService& customers, OperatorSessions& sessions, Clock& clock);

  // Returns: kOk; kPermissionDenied; kNotFound "owner: ..." (not an
  // operator of this store); kInvalidArgument "filter: ..."/"attributes: ..."
  // with `bad_attribute` naming it.
  Result<BookPage> Book(const Caller& caller, BookQuery query, std::string& bad_attribute);

  // Returns: kOk (also when it was there / gone already: nothing queued);
  // kPermissionDenied; kNotFound "customer: ..." / "owner: ...".
  Status AddToBook(const Caller& caller, std::string_view owner, std::string_view customer_ref);
  Status RemoveFromBook(const Caller& caller, std::string_view owner, std::string_view customer_ref);

  // Moves customers from `from`'s book to `to`'s, all in one transaction.
  // Returns: kOk with how many moved; kPermissionDenied; kNotFound;
  // kInvalidArgument "customers: ..." (none, too many, or not in `from`'s book).
  Result<std::size_t> Reassign(const Caller& caller, std::string_view from, std::string_view to,
                               const std::vector<std::string>& customer_refs);

  Result<Card> CardOf(const Caller& caller, std::string_view customer_ref);

  // Returns: kOk with the entry stored and queued; kPermissionDenied;
  // kNotFound; kInvalidArgument "activity_type: ..." / "text: ...".
  Result<model::TimelineEntry> AddActivity(const Caller& caller, std::string_view customer_ref,
                                           std::string_view activity_type, std::int64_t at_ms, std::string_view text);
  Result<model::TimelineEntry> AddNote(const Caller& caller, std::string_view customer_ref, std::string_view text);
  Result<std::vector<model::TimelineEntry>> Timeline(const Caller& caller, std::string_view customer_ref,
                                                     std::size_t max);
  // The customer's consent ledger (storage::ClientelingTable::Consents).
  // Returns: kOk; kNotFound.
  Result<std::vector<model::ConsentEntry>> Consents(const Caller& caller, std::string_view customer_ref);

 private:
  Result<model::Operation> NewOperation(const Caller& caller, const model::Customer& c, model::OperationKind kind);
  Result<model::BookEntry> NewEntry(const Caller& caller, const model::Operator& owner, const model::Customer& c);
  // An entry of `owner`'s book for `c` and the operation that tells headquarters.
  Result<storage::ClientelingWrite> BookWrite(const Caller& caller, const model::Operator& owner,
                                              const model::Customer& c, bool present, std::string from_owner);
  Status ChangeBook(const Caller& caller, std::string_view owner, std::string_view customer_ref, bool add);
  // Stores and queues `writes` in one transaction and wakes the uplink.
  Status Commit(const std::vector<storage::ClientelingWrite>& writes);
  Result<model::TimelineEntry> Record(const Caller& caller, const model::Customer& c, model::TimelineEntry entry);

  storage::CustomerTable& customer_table_;
  storage::ClientelingTable& clienteling_;
  customers::CustomerService& customers_;
  OperatorSessions& sessions_;
  Clock& clock_;
};

}  // namespace kassa::clienteling
