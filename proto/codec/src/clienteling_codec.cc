// Model <-> nanopb for clienteling (clienteling.proto).

#include <cstring>
#include <memory>

#include "kassa/link/v1/clienteling.pb.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/model/limits.h"
#include "nanopb_io.h"

namespace kassa::proto_codec {
namespace internal {
namespace m = ::kassa::model;

KASSA_BOUND(kassa_link_v1_Role::id, m::kMaxRoleIdBytes);
KASSA_BOUND(kassa_link_v1_AttributeDefinition::name, m::kMaxAttributeNameBytes);
KASSA_BOUND(kassa_link_v1_AttributeDefinition::label, m::kMaxAttributeLabelBytes);
KASSA_BOUND(kassa_link_v1_AttributeDefinition::choices[0], m::kMaxChoiceBytes);
KASSA_BOUND(kassa_link_v1_ActivityType::id, m::kMaxActivityTypeIdBytes);
KASSA_BOUND(kassa_link_v1_ActivityType::name, m::kMaxActivityTypeNameBytes);
KASSA_BOUND(kassa_link_v1_Operator::worker_id, m::kMaxWorkerIdBytes);
KASSA_BOUND(kassa_link_v1_Operator::name, m::kMaxOperatorNameBytes);
KASSA_BOUND(kassa_link_v1_Operator::pin_hash, m::kMaxPinHashBytes);
KASSA_BOUND(kassa_link_v1_Operator::badge, m::kMaxBadgeBytes);
KASSA_BOUND(kassa_link_v1_Operator::badge_hmac, 64);
KASSA_BOUND(kassa_link_v1_BookEntry::book_number, m::kMaxBookNumberBytes);
KASSA_BOUND(kassa_link_v1_TimelineEntry::text, m::kMaxTimelineTextBytes);
KASSA_BOUND(kassa_link_v1_ConsentEntry::contact, m::kMaxEmailBytes);
KASSA_BOUND(kassa_link_v1_ConsentText::id, m::kMaxConsentTextIdBytes);
KASSA_BOUND(kassa_link_v1_ConsentText::version, m::kMaxPublishedVersionBytes);
KASSA_BOUND(kassa_link_v1_ConsentText::language, m::kMaxConsentTextLanguageBytes);
KASSA_BOUND(kassa_link_v1_ConsentText::text, m::kMaxConsentTextBytes);
static_assert(sizeof(kassa_link_v1_ClientelingConfig::consent_texts) / sizeof(kassa_link_v1_ConsentText) ==
              m::kMaxConsentTexts);
static_assert(sizeof(kassa_link_v1_ClientelingConfig::roles) / sizeof(kassa_link_v1_Role) == m::kMaxRoles);
static_assert(sizeof(kassa_link_v1_ClientelingConfig::attributes) / sizeof(kassa_link_v1_AttributeDefinition) ==
              m::kMaxAttributeDefinitions);
static_assert(sizeof(kassa_link_v1_ClientelingConfig::activity_types) / sizeof(kassa_link_v1_ActivityType) ==
              m::kMaxActivityTypes);
static_assert(sizeof(kassa_link_v1_AttributeDefinition::choices) / sizeof(kassa_link_v1_AttributeDefinition::choices[0]) ==
              m::kMaxChoices);
static_assert(sizeof(kassa_link_v1_Operator::stores) / sizeof(kassa_link_v1_Operator::stores[0]) == m::kMaxOperatorStores);
static_assert(sizeof(kassa_link_v1_CustomerMeasures::measures) / sizeof(kassa_link_v1_AttributeValue) == m::kMaxMeasures);

namespace {

Status Bad(const char* detail) { return Status(StatusCode::kDataLoss, detail); }

template <std::size_t N>
void PutId(std::uint8_t (&dst)[N], const m::LocalId& id) {
  static_assert(N == m::kLocalIdBytes);
  std::memcpy(dst, id.bytes.data(), N);
}
template <std::size_t N>
m::LocalId GetId(const std::uint8_t (&src)[N]) {
  m::LocalId id;
  std::memcpy(id.bytes.data(), src, N);
  return id;
}

Status FillConfig(const m::ClientelingConfig& c, kassa_link_v1_ClientelingConfig& p) {
  if (!PutString(p.legal_entity, c.legal_entity)) return TooLong("legal_entity: too long for the record");
  if (c.roles.size() > m::kMaxRoles || c.attributes.size() > m::kMaxAttributeDefinitions ||
      c.activity_types.size() > m::kMaxActivityTypes) {
    return TooLong("clienteling: too many entries for the record");
  }
  p.roles_count = static_cast<pb_size_t>(c.roles.size());
  for (std::size_t i = 0; i < c.roles.size(); ++i) {
    if (!PutString(p.roles[i].id, c.roles[i].id) || !PutString(p.roles[i].name, c.roles[i].name)) {
      return TooLong("roles: too long for the record");
    }
    p.roles[i].permissions = c.roles[i].permissions;
  }
  p.attributes_count = static_cast<pb_size_t>(c.attributes.size());
  for (std::size_t i = 0; i < c.attributes.size(); ++i) {
    const auto& a = c.attributes[i];
    auto& pa = p.attributes[i];
    if (!PutString(pa.name, a.name) || !PutString(pa.label, a.label)) return TooLong("attributes: too long for the record");
    pa.type = static_cast<kassa_link_v1_AttributeType>(a.type);
    pa.display_order = a.display_order;
    pa.refinable = a.refinable;
    KASSA_TRY(FillStrings(a.choices, pa.choices, pa.choices_count, TooLong("attributes.choices: too long for the record")));
  }
  p.activity_types_count = static_cast<pb_size_t>(c.activity_types.size());
  for (std::size_t i = 0; i < c.activity_types.size(); ++i) {
    if (!PutString(p.activity_types[i].id, c.activity_types[i].id) ||
        !PutString(p.activity_types[i].name, c.activity_types[i].name)) {
      return TooLong("activity_types: too long for the record");
    }
  }
  p.idle_timeout_s = c.idle_timeout_s;
  p.max_pin_attempts = c.max_pin_attempts;
  p.lockout_s = c.lockout_s;
  if (c.badge_key.size() > sizeof(p.badge_key.bytes)) return TooLong("badge_key: too long for the record");
  p.badge_key.size = static_cast<pb_size_t>(c.badge_key.size());
  std::memcpy(p.badge_key.bytes, c.badge_key.data(), c.badge_key.size());
  if (c.consent_texts.size() > m::kMaxConsentTexts) return TooLong("consent_texts: too many for the record");
  p.consent_texts_count = static_cast<pb_size_t>(c.consent_texts.size());
  for (std::size_t i = 0; i < c.consent_texts.size(); ++i) {
    const m::ConsentText& t = c.consent_texts[i];
    if (!PutString(p.consent_texts[i].id, t.id) || !PutString(p.consent_texts[i].version, t.version) ||
        !PutString(p.consent_texts[i].language, t.language) || !PutString(p.consent_texts[i].text, t.text)) {
      return TooLong("consent_texts: too long for the record");
    }
  }
  return Status::Ok();
}

Result<m::ClientelingConfig> ReadConfig(const kassa_link_v1_ClientelingConfig& p) {
  m::ClientelingConfig c;
  c.legal_entity = GetString(p.legal_entity);
  for (pb_size_t i = 0; i < p.roles_count; ++i) {
    c.roles.push_back({GetString(p.roles[i].id), GetString(p.roles[i].name), p.roles[i].permissions});
  }
  for (pb_size_t i = 0; i < p.attributes_count; ++i) {
    const auto& pa = p.attributes[i];
    const int type = EnumNumber(pa.type);
    if (type < 1 || type > 6) return Bad("attributes.type: unknown value in record");
    c.attributes.push_back({GetString(pa.name), GetString(pa.label), static_cast<m::AttributeType>(type), pa.display_order,
                            pa.refinable, GetStrings(pa.choices, pa.choices_count)});
  }
  for (pb_size_t i = 0; i < p.activity_types_count; ++i) {
    c.activity_types.push_back({GetString(p.activity_types[i].id), GetString(p.activity_types[i].name)});
  }
  c.idle_timeout_s = p.idle_timeout_s;
  c.max_pin_attempts = p.max_pin_attempts;
  c.lockout_s = p.lockout_s;
  c.badge_key.assign(reinterpret_cast<const char*>(p.badge_key.bytes), p.badge_key.size);
  for (pb_size_t i = 0; i < p.consent_texts_count; ++i) {
    const auto& t = p.consent_texts[i];
    c.consent_texts.push_back({GetString(t.id), GetString(t.version), GetString(t.language), GetString(t.text)});
  }
  return c;
}

Status FillOperator(const m::Operator& o, kassa_link_v1_Operator& p) {
  const bool fits = PutString(p.worker_id, o.worker_id) && PutString(p.name, o.name) &&
                    PutString(p.legal_entity, o.legal_entity) && PutString(p.role, o.role) &&
                    PutString(p.pin_hash, o.pin_hash) && PutString(p.badge, o.badge) &&
                    PutString(p.badge_hmac, o.badge_hmac);
  if (!fits) return TooLong("operator: too long for the record");
  KASSA_TRY(FillStrings(o.stores, p.stores, p.stores_count, TooLong("operator.stores: too long for the record")));
  KASSA_TRY(FillStrings(o.former_stores, p.former_stores, p.former_stores_count,
                        TooLong("operator.former_stores: too long for the record")));
  p.active = o.active;
  return Status::Ok();
}

m::Operator ReadOperator(const kassa_link_v1_Operator& p) {
  m::Operator o;
  o.worker_id = GetString(p.worker_id);
  o.name = GetString(p.name);
  o.legal_entity = GetString(p.legal_entity);
  o.stores = GetStrings(p.stores, p.stores_count);
  o.former_stores = GetStrings(p.former_stores, p.former_stores_count);
  o.role = GetString(p.role);
  o.pin_hash = GetString(p.pin_hash);
  o.badge = GetString(p.badge);
  o.badge_hmac = GetString(p.badge_hmac);
  o.active = p.active;
  return o;
}

Status FillMeasures(const m::CustomerMeasures& c, kassa_link_v1_CustomerMeasures& p) {
  PutId(p.customer_id, c.customer_id);
  if (c.measures.size() > m::kMaxMeasures) return TooLong("measures: at most 3");
  p.measures_count = static_cast<pb_size_t>(c.measures.size());
  for (std::size_t i = 0; i < c.measures.size(); ++i) {
    if (!PutString(p.measures[i].name, c.measures[i].name) || !PutString(p.measures[i].value, c.measures[i].value)) {
      return TooLong("measures: too long for the record");
    }
  }
  return Status::Ok();
}

m::CustomerMeasures ReadMeasures(const kassa_link_v1_CustomerMeasures& p) {
  m::CustomerMeasures c;
  c.customer_id = GetId(p.customer_id);
  for (pb_size_t i = 0; i < p.measures_count; ++i) {
    c.measures.push_back({GetString(p.measures[i].name), GetString(p.measures[i].value)});
  }
  return c;
}

}  // namespace

Status FillBookEntry(const m::BookEntry& e, kassa_link_v1_BookEntry& p) {
  const bool fits = PutString(p.owner, e.owner) && PutString(p.changed_by, e.changed_by) &&
                    PutString(p.book_number, e.book_number) && PutString(p.from_owner, e.from_owner);
  if (!fits) return TooLong("book_entry: too long for the record");
  PutId(p.customer_id, e.customer_id);
  PutId(p.book_id, e.book_id);
  p.present = e.present;
  p.changed_at_ms = e.changed_at_ms;
  return Status::Ok();
}

m::BookEntry ReadBookEntry(const kassa_link_v1_BookEntry& p) {
  m::BookEntry e;
  e.owner = GetString(p.owner);
  e.customer_id = GetId(p.customer_id);
  e.present = p.present;
  e.changed_at_ms = p.changed_at_ms;
  e.changed_by = GetString(p.changed_by);
  e.book_id = GetId(p.book_id);
  e.book_number = GetString(p.book_number);
  e.from_owner = GetString(p.from_owner);
  return e;
}

Status FillTimelineEntry(const m::TimelineEntry& e, kassa_link_v1_TimelineEntry& p) {
  PutId(p.id, e.id);
  PutId(p.customer_id, e.customer_id);
  p.kind = static_cast<kassa_link_v1_TimelineKind>(e.kind);
  if (!PutString(p.activity_type, e.activity_type) || !PutString(p.worker_id, e.worker_id) ||
      !PutString(p.text, e.text)) {
    return TooLong("timeline_entry: too long for the record");
  }
  p.at_ms = e.at_ms;
  return Status::Ok();
}

Result<m::TimelineEntry> ReadTimelineEntry(const kassa_link_v1_TimelineEntry& p) {
  const int kind = EnumNumber(p.kind);
  if (kind < 1 || kind > 3) return Bad("timeline_entry.kind: unknown value in record");
  m::TimelineEntry e;
  e.id = GetId(p.id);
  e.customer_id = GetId(p.customer_id);
  e.kind = static_cast<m::TimelineKind>(kind);
  e.activity_type = GetString(p.activity_type);
  e.at_ms = p.at_ms;
  e.worker_id = GetString(p.worker_id);
  e.text = GetString(p.text);
  return e;
}

Status FillConsentEntry(const m::ConsentEntry& e, kassa_link_v1_ConsentEntry& p) {
  PutId(p.id, e.id);
  PutId(p.customer_id, e.customer_id);
  p.channel = static_cast<kassa_link_v1_ConsentChannel>(e.channel);
  if (!PutString(p.contact, e.contact) || !PutString(p.text_version, e.text_version) ||
      !PutString(p.terminal_id, e.terminal_id) || !PutString(p.operator_id, e.operator_id)) {
    return TooLong("consent: too long for the record");
  }
  p.granted = e.granted;
  p.at_ms = e.at_ms;
  p.seq = e.seq;
  return Status::Ok();
}

Result<m::ConsentEntry> ReadConsentEntry(const kassa_link_v1_ConsentEntry& p) {
  const int channel = EnumNumber(p.channel);
  if (channel != 1 && channel != 2) return Bad("consent.channel: unknown value in record");
  m::ConsentEntry e;
  e.id = GetId(p.id);
  e.customer_id = GetId(p.customer_id);
  e.channel = static_cast<m::ConsentChannel>(channel);
  e.contact = GetString(p.contact);
  e.granted = p.granted;
  e.text_version = GetString(p.text_version);
  e.at_ms = p.at_ms;
  e.terminal_id = GetString(p.terminal_id);
  e.operator_id = GetString(p.operator_id);
  e.seq = p.seq;
  return e;
}

Status FillClientelingRecord(const m::ClientelingRecord& r, kassa_link_v1_ClientelingRecord& p) {
  if (r.config) {
    p.which_record = kassa_link_v1_ClientelingRecord_config_tag;
    return FillConfig(*r.config, p.record.config);
  }
  if (r.op) {
    p.which_record = kassa_link_v1_ClientelingRecord_operator_record_tag;
    return FillOperator(*r.op, p.record.operator_record);
  }
  if (r.book_entry) {
    p.which_record = kassa_link_v1_ClientelingRecord_book_entry_tag;
    return FillBookEntry(*r.book_entry, p.record.book_entry);
  }
  if (r.timeline_entry) {
    p.which_record = kassa_link_v1_ClientelingRecord_timeline_entry_tag;
    return FillTimelineEntry(*r.timeline_entry, p.record.timeline_entry);
  }
  if (r.measures) {
    p.which_record = kassa_link_v1_ClientelingRecord_measures_tag;
    return FillMeasures(*r.measures, p.record.measures);
  }
  if (r.consent) {
    p.which_record = kassa_link_v1_ClientelingRecord_consent_tag;
    return FillConsentEntry(*r.consent, p.record.consent);
  }
  return Status(StatusCode::kInvalidArgument, "clienteling: an empty record");
}

Result<m::ClientelingRecord> ReadClientelingRecord(const kassa_link_v1_ClientelingRecord& p) {
  m::ClientelingRecord r;
  switch (p.which_record) {
    case kassa_link_v1_ClientelingRecord_config_tag: {
      KASSA_TRY_ASSIGN(auto c, ReadConfig(p.record.config));
      r.config = std::move(c);
      return r;
    }
    case kassa_link_v1_ClientelingRecord_operator_record_tag:
      r.op = ReadOperator(p.record.operator_record);
      return r;
    case kassa_link_v1_ClientelingRecord_book_entry_tag:
      r.book_entry = ReadBookEntry(p.record.book_entry);
      return r;
    case kassa_link_v1_ClientelingRecord_timeline_entry_tag: {
      KASSA_TRY_ASSIGN(auto e, ReadTimelineEntry(p.record.timeline_entry));
      r.timeline_entry = std::move(e);
      return r;
    }
    case kassa_link_v1_ClientelingRecord_measures_tag:
      r.measures = ReadMeasures(p.record.measures);
      return r;
    case kassa_link_v1_ClientelingRecord_consent_tag: {
      KASSA_TRY_ASSIGN(auto e, ReadConsentEntry(p.record.consent));
      r.consent = std::move(e);
      return r;
    }
    default:
      return Bad("clienteling: unknown or missing record");
  }
}

}  // namespace internal

Result<Bytes> EncodeClientelingRecord(const model::ClientelingRecord& record) {
  auto p = std::make_unique<kassa_link_v1_ClientelingRecord>();
  KASSA_TRY(internal::FillClientelingRecord(record, *p));
  return internal::EncodeMessage(kassa_link_v1_ClientelingRecord_fields, p.get());
}

Result<model::ClientelingRecord> DecodeClientelingRecord(ByteView bytes) {
  auto p = std::make_unique<kassa_link_v1_ClientelingRecord>();
  KASSA_TRY(internal::DecodeMessage(bytes, kassa_link_v1_ClientelingRecord_fields, p.get()));
  return internal::ReadClientelingRecord(*p);
}

}  // namespace kassa::proto_codec
