#include "kassa/model/clienteling.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "kassa/base/log.h"
#include "kassa/model/text.h"

namespace kassa::model {
namespace {

constexpr const char* kPermissionNames[kPermissionCount] = {
    "view_own_book", "view_store_books", "add_to_book", "remove_from_book", "reassign",
    "create_customer", "edit_customer", "add_activity", "add_note"};

constexpr Status Invalid(const char* detail) { return Status(StatusCode::kInvalidArgument, detail); }

// "" when `value` fits; otherwise "MEMBER: what is wrong".
Status CheckText(std::string& field, const std::string& member, std::string_view value, std::size_t max,
                 bool required) {
  if (required && value.empty()) return InvalidAt(field, member, "required");
  if (value.size() > max) {
    KASSA_LOG(kWarning) << member << ": at most " << max << " bytes, not " << value.size();
    return InvalidAt(field, member, "too long");
  }
  return Status::Ok();
}

std::optional<std::int64_t> ParseInteger(std::string_view s) {
  std::int64_t v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Decimals keep up to 4 fractional digits; compared as scaled integers.
std::optional<std::int64_t> ParseDecimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  const auto dot = s.find_first_of(".,");
  const std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 13 || frac.size() > 4) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : whole) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  for (std::size_t i = 0; i < 4; ++i) {
    const char ch = i < frac.size() ? frac[i] : '0';
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return negative ? -v : v;
}

std::string FormatDecimal(std::int64_t scaled) {
  const bool negative = scaled < 0;
  const std::uint64_t a = negative ? static_cast<std::uint64_t>(-scaled) : static_cast<std::uint64_t>(scaled);
  std::string out = (negative ? "-" : "") + std::to_string(a / 10000);
  std::uint64_t frac = a % 10000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 4 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

std::optional<std::chrono::year_month_day> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const auto y = ParseInteger(s.substr(0, 4));
  const auto m = ParseInteger(s.substr(5, 2));
  const auto d = ParseInteger(s.substr(8, 2));
  if (!y || !m || !d || *y < 1900) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(*y)),
                                        std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

const AttributeValue* ValueOf(const Customer& c, std::string_view name) {
  for (const auto& a : c.attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// Days from `today` to the next occurrence (today included) of the month
// and day of `date`; 29 February counts as 28 February in common years.
int DaysUntilAnniversary(std::chrono::year_month_day date, std::chrono::sys_days today) {
  using namespace std::chrono;
  const year_month_day t{today};
  for (int add = 0; add < 2; ++add) {
    const year y = t.year() + years(add);
    year_month_day next{y, date.month(), date.day()};
    if (!next.ok()) next = year_month_day{y, date.month(), day(28)};
    const auto days = (sys_days(next) - today).count();
    if (days >= 0) return static_cast<int>(days);
  }
  return 366;
}

// -1, 0, 1 comparing a stored value with a bound of the same type.
std::optional<int> Compare(AttributeType type, std::string_view value, std::string_view bound) {
  if (type == AttributeType::kNumber || type == AttributeType::kDecimal) {
    const auto a = ParseDecimal(value);
    const auto b = ParseDecimal(bound);
    if (!a || !b) return std::nullopt;
    return *a < *b ? -1 : *a > *b ? 1 : 0;
  }
  if (type == AttributeType::kDate) {
    const auto a = ParseDate(value);
    const auto b = ParseDate(bound);
    if (!a || !b) return std::nullopt;
    return *a < *b ? -1 : *a > *b ? 1 : 0;
  }
  return std::nullopt;
}

}  // namespace

const char* ToString(Permission p) { return kPermissionNames[static_cast<std::size_t>(p)]; }

std::optional<Permission> ParsePermission(std::string_view s) {
  for (std::size_t i = 0; i < kPermissionCount; ++i) {
    if (s == kPermissionNames[i]) return static_cast<Permission>(i);
  }
  return std::nullopt;
}

const char* ToString(AttributeType t) {
  switch (t) {
    case AttributeType::kText: return "text";
    case AttributeType::kNumber: return "number";
    case AttributeType::kDecimal: return "decimal";
    case AttributeType::kYesNo: return "yes_no";
    case AttributeType::kDate: return "date";
    case AttributeType::kChoice: return "choice";
  }
  return "text";
}

std::optional<AttributeType> ParseAttributeType(std::string_view s) {
  for (auto t : {AttributeType::kText, AttributeType::kNumber, AttributeType::kDecimal, AttributeType::kYesNo,
                 AttributeType::kDate, AttributeType::kChoice}) {
    if (s == ToString(t)) return t;
  }
  return std::nullopt;
}

const char* ToString(TimelineKind k) {
  switch (k) {
    case TimelineKind::kActivity: return "activity";
    case TimelineKind::kNote: return "note";
    case TimelineKind::kConflict: return "conflict";
  }
  return "note";
}

const char* ToString(ConsentChannel c) { return c == ConsentChannel::kPhone ? "phone" : "email"; }

const char* ConsentTextId(ConsentChannel c) {
  return c == ConsentChannel::kPhone ? "marketing-phone" : "marketing-email";
}

const ConsentText* ClientelingConfig::FindConsentText(std::string_view id, std::string_view reference) const {
  for (const auto& t : consent_texts) {
    if (t.id == id && t.Reference() == reference) return &t;
  }
  return nullptr;
}

std::vector<ConsentEntry> ConsentChanges(const Customer* before, const Customer& after) {
  std::vector<ConsentEntry> out;
  const auto compare = [&](ConsentChannel channel, const std::vector<SecondaryContact>* old_list,
                           const std::vector<SecondaryContact>& new_list) {
    const auto find = [](const std::vector<SecondaryContact>* list, const std::string& value) -> const Consent* {
      if (list == nullptr) return nullptr;
      for (const auto& c : *list) {
        if (c.value == value) return &c.consent;
      }
      return nullptr;
    };
    for (const auto& now : new_list) {
      const Consent* was = find(old_list, now.value);
      const bool was_granted = was != nullptr && was->granted;
      const bool text_changed = was != nullptr && was->text_version != now.consent.text_version;
      if (now.consent.granted != was_granted || (now.consent.granted && text_changed)) {
        ConsentEntry e;
        e.customer_id = after.id;
        e.channel = channel;
        e.contact = now.value;
        e.granted = now.consent.granted;
        e.text_version = now.consent.text_version;
        out.push_back(std::move(e));
      }
    }
    if (old_list == nullptr) return;
    for (const auto& old : *old_list) {
      if (!old.consent.granted || find(&new_list, old.value) != nullptr) continue;
      ConsentEntry e;  // a contact removed takes its consent with it
      e.customer_id = after.id;
      e.channel = channel;
      e.contact = old.value;
      e.granted = false;
      out.push_back(std::move(e));
    }
  };
  // The primary contact first, then the secondary ones: one list per channel,
  // so a contact that moves between them keeps its consent history.
  const auto contacts = [](const std::string& primary, const Consent& consent,
                           const std::vector<SecondaryContact>& secondary) {
    std::vector<SecondaryContact> all;
    if (!primary.empty()) all.push_back({primary, consent});
    all.insert(all.end(), secondary.begin(), secondary.end());
    return all;
  };
  const auto new_emails = contacts(after.email, after.email_consent, after.secondary_emails);
  const auto new_phones = contacts(after.phone, after.phone_consent, after.secondary_phones);
  if (before == nullptr) {
    compare(ConsentChannel::kEmail, nullptr, new_emails);
    compare(ConsentChannel::kPhone, nullptr, new_phones);
    return out;
  }
  const auto old_emails = contacts(before->email, before->email_consent, before->secondary_emails);
  const auto old_phones = contacts(before->phone, before->phone_consent, before->secondary_phones);
  compare(ConsentChannel::kEmail, &old_emails, new_emails);
  compare(ConsentChannel::kPhone, &old_phones, new_phones);
  return out;
}

const Role* ClientelingConfig::FindRole(std::string_view id) const {
  for (const auto& r : roles) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const AttributeDefinition* ClientelingConfig::FindAttribute(std::string_view name) const {
  for (const auto& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const ActivityType* ClientelingConfig::FindActivityType(std::string_view id) const {
  for (const auto& t : activity_types) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

bool Operator::WorksIn(std::string_view store_id) const {
  return std::find(stores.begin(), stores.end(), store_id) != stores.end();
}

bool Operator::LeftBookIn(std::string_view store_id) const {
  if (active && WorksIn(store_id)) return false;
  return WorksIn(store_id) || std::find(former_stores.begin(), former_stores.end(), store_id) != former_stores.end();
}

Status CheckClientelingConfig(const ClientelingConfig& config, std::string& field) {
  KASSA_TRY(CheckText(field, "legal_entity", config.legal_entity, kMaxLegalEntityBytes, true));
  if (config.roles.size() > kMaxRoles) return InvalidAt(field, "roles", "too many (at most 8)");
  if (config.attributes.size() > kMaxAttributeDefinitions) return InvalidAt(field, "attributes", "too many (at most 16)");
  if (config.activity_types.size() > kMaxActivityTypes) return InvalidAt(field, "activity_types", "too many (at most 32)");
  for (std::size_t i = 0; i < config.roles.size(); ++i) {
    const auto& r = config.roles[i];
    const std::string at = "roles[" + std::to_string(i) + "]";
    KASSA_TRY(CheckText(field, at + ".id", r.id, kMaxRoleIdBytes, true));
    KASSA_TRY(CheckText(field, at + ".name", r.name, kMaxRoleIdBytes * 2, false));
    if (config.FindRole(r.id) != &r) return InvalidAt(field, at + ".id", "appears twice");
    if (r.permissions >= (std::uint32_t{1} << kPermissionCount)) return InvalidAt(field, at + ".permissions", "unknown bits");
  }
  for (std::size_t i = 0; i < config.attributes.size(); ++i) {
    const auto& a = config.attributes[i];
    const std::string at = "attributes[" + std::to_string(i) + "]";
    KASSA_TRY(CheckText(field, at + ".name", a.name, kMaxAttributeNameBytes, true));
    KASSA_TRY(CheckText(field, at + ".label", a.label, kMaxAttributeLabelBytes, false));
    if (config.FindAttribute(a.name) != &a) return InvalidAt(field, at + ".name", "appears twice");
    if (a.type == AttributeType::kChoice && a.choices.empty()) {
      return InvalidAt(field, at + ".choices", "a choice list needs values");
    }
    if (a.type != AttributeType::kChoice && !a.choices.empty()) return InvalidAt(field, at + ".choices", "only for type choice");
    if (a.choices.size() > kMaxChoices) return InvalidAt(field, at + ".choices", "too many (at most 16)");
    for (const auto& ch : a.choices) {
      KASSA_TRY(CheckText(field, at + ".choices", ch, kMaxChoiceBytes, true));
    }
  }
  for (std::size_t i = 0; i < config.activity_types.size(); ++i) {
    const auto& t = config.activity_types[i];
    const std::string at = "activity_types[" + std::to_string(i) + "]";
    KASSA_TRY(CheckText(field, at + ".id", t.id, kMaxActivityTypeIdBytes, true));
    KASSA_TRY(CheckText(field, at + ".name", t.name, kMaxActivityTypeNameBytes, true));
    if (config.FindActivityType(t.id) != &t) return InvalidAt(field, at + ".id", "appears twice");
  }
  if (config.consent_texts.size() > kMaxConsentTexts) return InvalidAt(field, "consent_texts", "too many (at most 16)");
  for (std::size_t i = 0; i < config.consent_texts.size(); ++i) {
    const auto& t = config.consent_texts[i];
    const std::string at = "consent_texts[" + std::to_string(i) + "]";
    KASSA_TRY(CheckText(field, at + ".id", t.id, kMaxConsentTextIdBytes, true));
    KASSA_TRY(CheckText(field, at + ".version", t.version, kMaxPublishedVersionBytes, true));
    KASSA_TRY(CheckText(field, at + ".language", t.language, kMaxConsentTextLanguageBytes, true));
    KASSA_TRY(CheckText(field, at + ".text", t.text, kMaxConsentTextBytes, true));
    if (t.version.find('/') != std::string::npos) return InvalidAt(field, at + ".version", "must not contain /");
    if (config.FindConsentText(t.id, t.Reference()) != &t) {
      return InvalidAt(field, at, "the same id, version and language appear twice");
    }
  }
  if (config.max_pin_attempts == 0) return InvalidAt(field, "max_pin_attempts", "at least 1");
  if (!config.badge_key.empty() && config.badge_key.size() != 32) return InvalidAt(field, "badge_key", "32 bytes");
  if (config.idle_timeout_s == 0) return InvalidAt(field, "idle_timeout_s", "at least 1");
  return Status::Ok();
}

Status CheckOperator(const Operator& op, std::string& field) {
  KASSA_TRY(CheckText(field, "worker_id", op.worker_id, kMaxWorkerIdBytes, true));
  KASSA_TRY(CheckText(field, "name", op.name, kMaxOperatorNameBytes, true));
  KASSA_TRY(CheckText(field, "legal_entity", op.legal_entity, kMaxLegalEntityBytes, true));
  KASSA_TRY(CheckText(field, "role", op.role, kMaxRoleIdBytes, true));
  KASSA_TRY(CheckText(field, "pin_hash", op.pin_hash, kMaxPinHashBytes, false));
  KASSA_TRY(CheckText(field, "badge", op.badge, kMaxBadgeBytes, false));
  if (!op.badge_hmac.empty() && (op.badge_hmac.size() != 64 ||
                                 op.badge_hmac.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return InvalidAt(field, "badge_hmac", "64 lower-case hex digits");
  }
  if (op.stores.size() > kMaxOperatorStores) return InvalidAt(field, "stores", "too many (at most 8)");
  for (const auto& st : op.stores) {
    KASSA_TRY(CheckText(field, "stores", st, kMaxStoreIdBytes, true));
  }
  if (op.former_stores.size() > kMaxOperatorStores) return InvalidAt(field, "former_stores", "too many (at most 8)");
  for (const auto& st : op.former_stores) {
    KASSA_TRY(CheckText(field, "former_stores", st, kMaxStoreIdBytes, true));
  }
  return Status::Ok();
}

Result<std::string> NormalizeAttributeValue(const AttributeDefinition& def, std::string_view value) {
  std::string_view v = value;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return Invalid("attributes: a value is empty");
  switch (def.type) {
    case AttributeType::kText:
      if (v.size() > kMaxAttributeValueBytes) return Invalid("attributes: a value is over 100 bytes");
      return std::string(v);
    case AttributeType::kNumber: {
      const auto n = ParseInteger(v);
      if (!n) return Invalid("attributes: not a whole number");
      return std::to_string(*n);
    }
    case AttributeType::kDecimal: {
      const auto d = ParseDecimal(v);
      if (!d) return Invalid("attributes: not a decimal number (at most 4 decimals)");
      return FormatDecimal(*d);
    }
    case AttributeType::kYesNo: {
      const std::string l = Lower(v);
      if (l == "yes" || l == "true" || l == "1") return std::string("yes");
      if (l == "no" || l == "false" || l == "0") return std::string("no");
      return Invalid("attributes: must be yes or no");
    }
    case AttributeType::kDate:
      if (!ParseDate(v)) return Invalid("attributes: not a date (YYYY-MM-DD)");
      return std::string(v);
    case AttributeType::kChoice:
      for (const auto& ch : def.choices) {
        if (Lower(ch) == Lower(v)) return ch;
      }
      return Invalid("attributes: not one of the attribute's choices");
  }
  return Invalid("attributes: unknown type");
}

Status NormalizeAttributes(const ClientelingConfig& config, Customer& c, std::string& bad_attribute) {
  for (auto& a : c.attributes) {
    const AttributeDefinition* def = config.FindAttribute(a.name);
    if (def == nullptr) continue;
    auto normalized = NormalizeAttributeValue(*def, a.value);
    if (!normalized.ok()) {
      bad_attribute = a.name;
      return normalized.status();
    }
    a.value = std::move(*normalized);
  }
  return Status::Ok();
}

std::vector<CardFact> ComposeCard(const ClientelingConfig& config, const Customer& c,
                                  const std::vector<AttributeValue>& measures) {
  std::vector<CardFact> facts;
  for (const auto& m : measures) {
    if (facts.size() == kCardFacts) return facts;
    facts.push_back({m.name, m.name, m.value, true});
  }
  std::vector<const AttributeDefinition*> defs;
  for (const auto& d : config.attributes) defs.push_back(&d);
  std::stable_sort(defs.begin(), defs.end(),
                   [](const auto* a, const auto* b) { return a->display_order < b->display_order; });
  for (const auto* d : defs) {
    if (facts.size() == kCardFacts) break;
    const AttributeValue* v = ValueOf(c, d->name);
    if (v == nullptr) continue;
    facts.push_back({d->name, d->label.empty() ? d->name : d->label, v->value, false});
  }
  return facts;
}

Status ValidateFilter(const ClientelingConfig& config, BookFilter& filter, std::string& bad_attribute) {
  for (auto& cond : filter.conditions) {
    bad_attribute = cond.attribute;
    const AttributeDefinition* def = config.FindAttribute(cond.attribute);
    if (def == nullptr) return Invalid("filter: no such attribute");
    if (!def->refinable) return Invalid("filter: the attribute is not refinable");
    using Op = BookFilter::Condition::Op;
    switch (cond.op) {
      case Op::kEquals:
      case Op::kOneOf:
        if (cond.values.empty() || (cond.op == Op::kEquals && cond.values.size() != 1)) {
          return Invalid("filter: equals needs one value, one_of at least one");
        }
        for (auto& v : cond.values) {
          KASSA_TRY_ASSIGN(v, NormalizeAttributeValue(*def, v));
        }
        break;
      case Op::kRange:
        if (def->type != AttributeType::kNumber && def->type != AttributeType::kDecimal &&
            def->type != AttributeType::kDate) {
          return Invalid("filter: a range needs a number, decimal or date attribute");
        }
        if (!cond.min && !cond.max) return Invalid("filter: a range needs min or max");
        if (cond.min) {
          KASSA_TRY_ASSIGN(*cond.min, NormalizeAttributeValue(*def, *cond.min));
        }
        if (cond.max) {
          KASSA_TRY_ASSIGN(*cond.max, NormalizeAttributeValue(*def, *cond.max));
        }
        break;
      case Op::kWithinDays:
        if (def->type != AttributeType::kDate) return Invalid("filter: within_days needs a date attribute");
        if (cond.days > 366) return Invalid("filter: within_days is at most 366");
        break;
    }
  }
  bad_attribute.clear();
  return Status::Ok();
}

bool Matches(const ClientelingConfig& config, const BookFilter& filter, const Customer& c, std::int64_t today_ms) {
  if (!filter.text.empty()) {
    const std::vector<std::string> names = CustomerNameTokens(c);
    for (const auto& word : NameTokens(filter.text)) {
      const bool found = std::any_of(names.begin(), names.end(),
                                     [&](const std::string& n) { return n.compare(0, word.size(), word) == 0; });
      if (!found) return false;
    }
  }
  const auto today = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(today_ms)));
  for (const auto& cond : filter.conditions) {
    const AttributeValue* v = ValueOf(c, cond.attribute);
    if (v == nullptr) return false;
    const AttributeDefinition* def = config.FindAttribute(cond.attribute);
    if (def == nullptr) return false;
    using Op = BookFilter::Condition::Op;
    switch (cond.op) {
      case Op::kEquals:
      case Op::kOneOf:
        if (std::find(cond.values.begin(), cond.values.end(), v->value) == cond.values.end()) return false;
        break;
      case Op::kRange: {
        if (cond.min) {
          const auto cmp = Compare(def->type, v->value, *cond.min);
          if (!cmp || *cmp < 0) return false;
        }
        if (cond.max) {
          const auto cmp = Compare(def->type, v->value, *cond.max);
          if (!cmp || *cmp > 0) return false;
        }
        break;
      }
      case Op::kWithinDays: {
        const auto date = ParseDate(v->value);
        if (!date || DaysUntilAnniversary(*date, today) > static_cast<int>(cond.days)) return false;
        break;
      }
    }
  }
  return true;
}

}  // namespace kassa::model
