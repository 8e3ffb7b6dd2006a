#pragma once

// Clienteling (SPEC "Clienteling"): operators and their roles, client books,
// the attributes and insight measures of the customer card, activities and
// notes. Plain values plus the rules that need no storage: permission
// checks, attribute validation, card composition, client-book filters.
//
// Configuration (roles, attribute definitions, activity types, operators)
// comes from headquarters per legal entity; book entries and timeline
// entries are made on terminals and travel through the outbox.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"
#include "kassa/model/ids.h"

namespace kassa::model {

inline constexpr std::size_t kMaxWorkerIdBytes = 32;       // = kMaxOperatorIdBytes
inline constexpr std::size_t kMaxOperatorNameBytes = 100;
inline constexpr std::size_t kMaxOperatorStores = 8;
inline constexpr std::size_t kMaxBadgeBytes = 32;
inline constexpr std::size_t kMaxPinHashBytes = 160;       // "pbkdf2-sha256$iter$salt$hash"
inline constexpr std::size_t kMaxRoles = 8;
inline constexpr std::size_t kMaxRoleIdBytes = 32;
inline constexpr std::size_t kMaxAttributeDefinitions = 16;  // = kMaxAttributes
inline constexpr std::size_t kMaxAttributeLabelBytes = 60;
inline constexpr std::size_t kMaxChoices = 16;
inline constexpr std::size_t kMaxChoiceBytes = 32;
inline constexpr std::size_t kMaxActivityTypes = 32;
inline constexpr std::size_t kMaxActivityTypeIdBytes = 32;
inline constexpr std::size_t kMaxActivityTypeNameBytes = 60;
inline constexpr std::size_t kMaxTimelineTextBytes = 1000;
inline constexpr std::size_t kMaxConsentTexts = 16;
inline constexpr std::size_t kMaxConsentTextIdBytes = 32;
inline constexpr std::size_t kMaxPublishedVersionBytes = 16;  // ConsentText::version: its Reference() fits kMaxConsentTextVersionBytes
inline constexpr std::size_t kMaxConsentTextLanguageBytes = 12;
inline constexpr std::size_t kMaxConsentTextBytes = 2000;
inline constexpr std::size_t kMaxMeasures = 3;
inline constexpr std::size_t kMaxBookNumberBytes = 20;

// What an operator may do. Reading customers (search, the card, the
// timeline) needs only a signed-in operator; everything here is one bit of
// a role's permission mask.
enum class Permission : std::uint8_t {
  kViewOwnBook = 0,
  kViewStoreBooks = 1,
  kAddToBook = 2,
  kRemoveFromBook = 3,
  kReassign = 4,
  kCreateCustomer = 5,
  kEditCustomer = 6,
  kAddActivity = 7,
  kAddNote = 8,
};
inline constexpr std::size_t kPermissionCount = 9;
const char* ToString(Permission p);  // "view_own_book", ...
std::optional<Permission> ParsePermission(std::string_view s);
inline constexpr std::uint32_t Bit(Permission p) { return std::uint32_t{1} << static_cast<unsigned>(p); }

struct Role {
  std::string id;            // "associate", "manager", ...
  std::string name;
  std::uint32_t permissions = 0;  // Bit(Permission) mask
  bool Allows(Permission p) const { return (permissions & Bit(p)) != 0; }
  friend bool operator==(const Role&, const Role&) = default;
};

enum class AttributeType : std::uint8_t { kText = 1, kNumber = 2, kDecimal = 3, kYesNo = 4, kDate = 5, kChoice = 6 };
const char* ToString(AttributeType t);  // "text" | "number" | "decimal" | "yes_no" | "date" | "choice"
std::optional<AttributeType> ParseAttributeType(std::string_view s);

// One attribute of the legal entity's client-book attribute group. Values
// live in Customer::attributes under `name`.
struct AttributeDefinition {
  std::string name;
  std::string label;
  AttributeType type = AttributeType::kText;
  std::uint32_t display_order = 0;
  bool refinable = false;
  std::vector<std::string> choices;  // kChoice: the allowed values
  friend bool operator==(const AttributeDefinition&, const AttributeDefinition&) = default;
};

struct ActivityType {
  std::string id;
  std::string name;
  friend bool operator==(const ActivityType&, const ActivityType&) = default;
};

enum class ConsentChannel : std::uint8_t { kEmail = 1, kPhone = 2 };
const char* ToString(ConsentChannel c);  // "email" | "phone"

// A consent text as the customer reads it, a record at headquarters: once
// published it is kept unchanged (a new wording is a new version). A consent
// names the text it was given on as "VERSION/LANGUAGE" (Consent::text_version);
// the text's id follows from the contact's channel ("marketing-email",
// "marketing-phone").
struct ConsentText {
  std::string id;
  std::string version;   // "2026-11"
  std::string language;  // "lv"
  std::string text;
  std::string Reference() const { return version + "/" + language; }
  friend bool operator==(const ConsentText&, const ConsentText&) = default;
};

// The id of the consent text for a contact of `channel`.
const char* ConsentTextId(ConsentChannel channel);  // "marketing-email" | "marketing-phone"

// Per legal entity, from headquarters.
struct ClientelingConfig {
  std::string legal_entity;
  std::vector<Role> roles;
  std::vector<AttributeDefinition> attributes;
  std::vector<ActivityType> activity_types;
  std::uint32_t idle_timeout_s = 300;   // a session unused this long is signed out
  std::uint32_t max_pin_attempts = 5;   // wrong PINs in a row before the lockout
  std::uint32_t lockout_s = 300;
  // The legal entity's badge key (32 bytes, from headquarters): badges are
  // kept and distributed only as HMAC-SHA-256 under it (Operator::badge_hmac).
  // Never shown by any API.
  std::string badge_key;
  std::vector<ConsentText> consent_texts;  // every version ever published
  const Role* FindRole(std::string_view id) const;
  // The text `id` whose Reference() is `reference` (nullptr: none).
  const ConsentText* FindConsentText(std::string_view id, std::string_view reference) const;
  const AttributeDefinition* FindAttribute(std::string_view name) const;
  const ActivityType* FindActivityType(std::string_view id) const;
  friend bool operator==(const ClientelingConfig&, const ClientelingConfig&) = default;
};

// An associate or manager, from headquarters. The PIN is only ever a slow
// salted hash (core/crypto: "pbkdf2-sha256$iterations$salt$hash").
struct Operator {
  std::string worker_id;
  std::string name;
  std::string legal_entity;
  std::vector<std::string> stores;
  std::string role;
  std::string pin_hash;
  std::string badge;       // plaintext: only in a terminal's own --clienteling file, before headquarters
  bool active = true;
  std::string badge_hmac;  // 64 hex digits: HMAC-SHA-256 of the badge under ClientelingConfig::badge_key
  // Stores the associate no longer works in, newest last (at most
  // kMaxOperatorStores): headquarters records them when a configuration
  // takes a store away, so that store still sees the associate's book.
  std::vector<std::string> former_stores{};
  bool WorksIn(std::string_view store_id) const;
  // Whether the associate's book belongs in `store_id`'s store client book
  // although they cannot work there: deactivated while working there, or
  // moved away from it.
  bool LeftBookIn(std::string_view store_id) const;
  friend bool operator==(const Operator&, const Operator&) = default;
};

// A customer in (or, `present` false, removed from) one associate's client
// book. A reassignment names the book it leaves in `from_owner`.
struct BookEntry {
  std::string owner;            // worker id of the book's associate
  LocalId customer_id;
  bool present = true;
  std::int64_t changed_at_ms = 0;
  std::string changed_by;       // worker id
  LocalId book_id;              // the terminal's temporary id of the book
  std::string book_number;      // headquarters' number; empty until assigned
  std::string from_owner;       // reassignments only
  friend bool operator==(const BookEntry&, const BookEntry&) = default;
};

// kConflict: made by headquarters only, when it merged two edits of one
// field made at the same time and one value lost (activity_type: the
// field's name, FieldName(); text: the value that lost, FieldText();
// worker_id: who made the edit that won).
enum class TimelineKind : std::uint8_t { kActivity = 1, kNote = 2, kConflict = 3 };
const char* ToString(TimelineKind k);  // "activity" | "note" | "conflict"

struct TimelineEntry {
  LocalId id;
  LocalId customer_id;
  TimelineKind kind = TimelineKind::kNote;
  std::string activity_type;   // activities: an ActivityType id
  std::int64_t at_ms = 0;      // when it happened
  std::string worker_id;       // who recorded it
  std::string text;
  friend bool operator==(const TimelineEntry&, const TimelineEntry&) = default;
};

// One entry of a customer's consent ledger: a marketing consent given or
// withdrawn for one contact, append-only. Made on a terminal with the edit
// that changed the consent (Operation::consents); ordered by headquarters
// (`seq`), never by terminal clocks.
struct ConsentEntry {
  LocalId id;                 // unique forever
  LocalId customer_id;
  ConsentChannel channel = ConsentChannel::kEmail;
  std::string contact;        // the email, or the phone in E.164
  bool granted = false;
  std::string text_version;   // the consent text the customer was shown ("" when none)
  std::int64_t at_ms = 0;     // when it was captured, by the terminal's clock (shown, never ordered by)
  std::string terminal_id;
  std::string operator_id;    // who captured it (a kiosk session's operator for self-service)
  std::uint64_t seq = 0;      // headquarters' order; 0 until headquarters applied it
  friend bool operator==(const ConsentEntry&, const ConsentEntry&) = default;
};

// The entries `after` adds to the ledger over `before` (nullptr: a new
// customer): a contact whose consent is granted now and was not (or is
// new), or was granted and is not any more (withdrawn, or the contact
// removed), over the primary and the secondary contacts of each channel.
// Ids and stamps are left for the caller.
std::vector<ConsentEntry> ConsentChanges(const Customer* before, const Customer& after);

// Headquarters' insight measures of one customer (churn likelihood, next
// best action, ...), imported there; at most kMaxMeasures.
struct CustomerMeasures {
  LocalId customer_id;
  std::vector<AttributeValue> measures;
  friend bool operator==(const CustomerMeasures&, const CustomerMeasures&) = default;
};

// One record of clienteling as it travels on the link: exactly one member set.
struct ClientelingRecord {
  std::optional<ClientelingConfig> config;
  std::optional<Operator> op;
  std::optional<BookEntry> book_entry;
  std::optional<TimelineEntry> timeline_entry;
  std::optional<CustomerMeasures> measures;
  std::optional<ConsentEntry> consent;
  friend bool operator==(const ClientelingRecord&, const ClientelingRecord&) = default;
};

// Returns: kOk when valid; otherwise kInvalidArgument with what is wrong
// ("appears twice", "too long"), the first wrong member's path in `field`
// ("roles[1].id", "attributes[0].choices").
Status CheckClientelingConfig(const ClientelingConfig& config, std::string& field);
// The same for one operator ("worker_id", "stores").
Status CheckOperator(const Operator& op, std::string& field);

// Checks `value` against `def` and returns its canonical form (numbers
// without leading zeros, dates as YYYY-MM-DD, yes/no as "yes"/"no").
// Returns: kInvalidArgument "attributes: ..." when it does not fit.
Result<std::string> NormalizeAttributeValue(const AttributeDefinition& def, std::string_view value);

// Validates every attribute of `c` that has a definition in `config` and
// rewrites it in canonical form; attributes without a definition are left
// as they are (other systems may own them). On failure `bad_attribute`
// names the attribute.
Status NormalizeAttributes(const ClientelingConfig& config, Customer& c, std::string& bad_attribute);

// The three facts of the customer card: headquarters' measures first (up to
// three), then the customer's attribute values in display order of their
// definitions, until there are three.
struct CardFact {
  std::string name;
  std::string label;
  std::string value;
  bool measure = false;
  friend bool operator==(const CardFact&, const CardFact&) = default;
};
inline constexpr std::size_t kCardFacts = 3;
std::vector<CardFact> ComposeCard(const ClientelingConfig& config, const Customer& c,
                                  const std::vector<AttributeValue>& measures);

// A client-book filter: every condition must hold.
struct BookFilter {
  struct Condition {
    enum class Op : std::uint8_t { kEquals, kOneOf, kRange, kWithinDays };
    std::string attribute;
    Op op = Op::kEquals;
    std::vector<std::string> values;  // kEquals: one; kOneOf: several
    std::optional<std::string> min;   // kRange (inclusive; numbers, decimals, dates)
    std::optional<std::string> max;
    std::uint32_t days = 0;           // kWithinDays: month and day within the next N days
  };
  std::vector<Condition> conditions;
  std::string text;  // free text over names: every word must start a name token
};

// Checks each condition's attribute is defined and refinable and its
// values fit the definition, normalizing them. Returns kInvalidArgument
// "filter: ..." or "attributes: ..." with `bad_attribute` naming it.
Status ValidateFilter(const ClientelingConfig& config, BookFilter& filter, std::string& bad_attribute);

// Whether `c` passes `filter` (validated) on day `today_ms` (UTC).
bool Matches(const ClientelingConfig& config, const BookFilter& filter, const Customer& c, std::int64_t today_ms);

}  // namespace kassa::model
