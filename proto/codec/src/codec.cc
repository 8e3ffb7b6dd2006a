#include "kassa/proto_codec/codec.h"

#include <pb_decode.h>
#include <pb_encode.h>

#include <cstring>
#include <memory>

#include "kassa/link/v1/customer.pb.h"
#include "kassa/link/v1/operation.pb.h"
#include "kassa/link/v1/store.pb.h"
#include "kassa/model/limits.h"
#include "customer_wire_reader.h"
#include "nanopb_io.h"

namespace kassa::proto_codec {
namespace {

namespace m = ::kassa::model;

KASSA_BOUND(kassa_link_v1_Customer::first_name, m::kMaxPersonNameBytes);
KASSA_BOUND(kassa_link_v1_Customer::last_name, m::kMaxPersonNameBytes);
KASSA_BOUND(kassa_link_v1_Customer::organization_name, m::kMaxOrgNameBytes);
KASSA_BOUND(kassa_link_v1_Customer::email, m::kMaxEmailBytes);
KASSA_BOUND(kassa_link_v1_Customer::phone, m::kMaxPhoneBytes);
KASSA_BOUND(kassa_link_v1_Customer::account, m::kMaxAccountBytes);
KASSA_BOUND(kassa_link_v1_Customer::customer_group, m::kMaxGroupIdBytes);
KASSA_BOUND(kassa_link_v1_Customer::receipt_email, m::kMaxEmailBytes);
KASSA_BOUND(kassa_link_v1_Customer::currency, m::kMaxCurrencyBytes);
KASSA_BOUND(kassa_link_v1_Customer::language, m::kMaxLanguageBytes);
KASSA_BOUND(kassa_link_v1_Customer::affiliations[0], m::kMaxAffiliationBytes);
KASSA_BOUND(kassa_link_v1_Customer::loyalty_cards[0], m::kMaxLoyaltyCardBytes);
KASSA_BOUND(kassa_link_v1_SecondaryContact::value, m::kMaxEmailBytes);
KASSA_BOUND(kassa_link_v1_Consent::operator_id, m::kMaxOperatorIdBytes);
KASSA_BOUND(kassa_link_v1_Consent::terminal_id, m::kMaxTerminalIdBytes);
KASSA_BOUND(kassa_link_v1_Consent::text_version, m::kMaxConsentTextVersionBytes);
KASSA_BOUND(kassa_link_v1_Address::street, m::kMaxStreetBytes);
KASSA_BOUND(kassa_link_v1_Address::city, m::kMaxCityBytes);
KASSA_BOUND(kassa_link_v1_Address::postal_code, m::kMaxPostalCodeBytes);
KASSA_BOUND(kassa_link_v1_Address::region, m::kMaxRegionBytes);
KASSA_BOUND(kassa_link_v1_Address::country, m::kMaxCountryBytes);
KASSA_BOUND(kassa_link_v1_Address::contact_name, m::kMaxContactNameBytes);
KASSA_BOUND(kassa_link_v1_Address::contact_phone, m::kMaxPhoneBytes);
KASSA_BOUND(kassa_link_v1_AttributeValue::name, m::kMaxAttributeNameBytes);
KASSA_BOUND(kassa_link_v1_AttributeValue::value, m::kMaxAttributeValueBytes);
KASSA_BOUND(kassa_link_v1_StoreConfig::store_id, m::kMaxStoreIdBytes);
KASSA_BOUND(kassa_link_v1_StoreConfig::legal_entity, m::kMaxLegalEntityBytes);
KASSA_BOUND(kassa_link_v1_CustomerGroup::name, m::kMaxGroupNameBytes);
#undef KASSA_BOUND
static_assert(sizeof(kassa_link_v1_Customer::addresses) / sizeof(kassa_link_v1_Address) == m::kMaxAddresses);
static_assert(sizeof(kassa_link_v1_Customer::secondary_emails) / sizeof(kassa_link_v1_SecondaryContact) == m::kMaxSecondaryContacts);
static_assert(sizeof(kassa_link_v1_Customer::secondary_phones) / sizeof(kassa_link_v1_SecondaryContact) == m::kMaxSecondaryContacts);
static_assert(sizeof(kassa_link_v1_Customer::attributes) / sizeof(kassa_link_v1_AttributeValue) == m::kMaxAttributes);
static_assert(sizeof(kassa_link_v1_Customer::affiliations) / sizeof(kassa_link_v1_Customer::affiliations[0]) == m::kMaxAffiliations);
static_assert(sizeof(kassa_link_v1_Customer::loyalty_cards) / sizeof(kassa_link_v1_Customer::loyalty_cards[0]) == m::kMaxLoyaltyCards);
static_assert(sizeof(kassa_link_v1_StoreConfig::customer_groups) / sizeof(kassa_link_v1_CustomerGroup) == m::kMaxCustomerGroups);
static_assert(sizeof(kassa_link_v1_Customer::id) == m::kLocalIdBytes);
static_assert(sizeof(kassa_link_v1_Customer::financial_dimensions) / sizeof(kassa_link_v1_AttributeValue) == m::kMaxFinancialDimensions);
#define KASSA_FIELD(tag, field) static_assert(kassa_link_v1_Customer_##tag##_tag == static_cast<int>(m::CustomerField::field))
KASSA_FIELD(account, kAccount);
KASSA_FIELD(type, kType);
KASSA_FIELD(first_name, kFirstName);
KASSA_FIELD(last_name, kLastName);
KASSA_FIELD(organization_name, kOrganizationName);
KASSA_FIELD(email, kEmail);
KASSA_FIELD(phone, kPhone);
KASSA_FIELD(secondary_emails, kSecondaryEmails);
KASSA_FIELD(secondary_phones, kSecondaryPhones);
KASSA_FIELD(addresses, kAddresses);
KASSA_FIELD(customer_group, kCustomerGroup);
KASSA_FIELD(receipt_preference, kReceiptPreference);
KASSA_FIELD(receipt_email, kReceiptEmail);
KASSA_FIELD(currency, kCurrency);
KASSA_FIELD(language, kLanguage);
KASSA_FIELD(affiliations, kAffiliations);
KASSA_FIELD(attributes, kAttributes);
KASSA_FIELD(loyalty_cards, kLoyaltyCards);
#undef KASSA_FIELD

}  // namespace

namespace internal {
namespace m = ::kassa::model;



// Encodes `msg` of type `fields` into an exactly sized buffer.
Result<Bytes> EncodeMessage(const pb_msgdesc_t* fields, const void* msg) {
  std::size_t size = 0;
  if (!pb_get_encoded_size(&size, fields, msg)) {
    return Status(StatusCode::kInternal, "nanopb could not size the message");
  }
  Bytes out(size);
  pb_ostream_t stream = pb_ostream_from_buffer(out.data(), out.size());
  if (!pb_encode(&stream, fields, msg)) return Status(StatusCode::kInternal, PB_GET_ERROR(&stream));
  return out;
}

Status DecodeMessage(ByteView bytes, const pb_msgdesc_t* fields, void* msg) {
  pb_istream_t stream = pb_istream_from_buffer(bytes.data(), bytes.size());
  if (!pb_decode(&stream, fields, msg)) return Status(StatusCode::kDataLoss, PB_GET_ERROR(&stream));
  return Status::Ok();
}

Status FillConsent(const m::Consent& in, kassa_link_v1_Consent& out) {
  out.granted = in.granted;
  out.captured_at_ms = in.captured_at_ms;
  if (!PutString(out.operator_id, in.operator_id)) return TooLong("consent.operator: too long for the record");
  if (!PutString(out.terminal_id, in.terminal_id)) return TooLong("consent.terminal: too long for the record");
  if (!PutString(out.text_version, in.text_version)) return TooLong("consent.text_version: too long for the record");
  return Status::Ok();
}

Status FillContacts(const std::vector<m::SecondaryContact>& in, kassa_link_v1_SecondaryContact* out,
                    pb_size_t capacity, pb_size_t& count) {
  if (in.size() > capacity) return TooLong("secondary_contacts: too many for the record");
  count = static_cast<pb_size_t>(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!PutString(out[i].value, in[i].value)) return TooLong("secondary_contacts: too long for the record");
    out[i].has_consent = true;
    KASSA_TRY(FillConsent(in[i].consent, out[i].consent));
  }
  return Status::Ok();
}



Status FillCustomer(const m::Customer& c, kassa_link_v1_Customer& p) {
  std::memcpy(p.id, c.id.bytes.data(), sizeof(p.id));
  if (!PutString(p.account, c.account)) return TooLong("account: too long for the record");
  p.type = static_cast<kassa_link_v1_CustomerType>(c.type);
  if (!PutString(p.first_name, c.first_name)) return TooLong("first_name: too long for the record");
  if (!PutString(p.last_name, c.last_name)) return TooLong("last_name: too long for the record");
  if (!PutString(p.organization_name, c.organization_name)) return TooLong("organization_name: too long for the record");
  if (!PutString(p.email, c.email)) return TooLong("email: too long for the record");
  if (!PutString(p.phone, c.phone)) return TooLong("phone: too long for the record");
  if (c.email_consent != m::Consent{}) {
    p.has_email_consent = true;
    KASSA_TRY(FillConsent(c.email_consent, p.email_consent));
  }
  if (c.phone_consent != m::Consent{}) {
    p.has_phone_consent = true;
    KASSA_TRY(FillConsent(c.phone_consent, p.phone_consent));
  }
  KASSA_TRY(FillContacts(c.secondary_emails, p.secondary_emails, m::kMaxSecondaryContacts, p.secondary_emails_count));
  KASSA_TRY(FillContacts(c.secondary_phones, p.secondary_phones, m::kMaxSecondaryContacts, p.secondary_phones_count));
  if (c.addresses.size() > m::kMaxAddresses) return TooLong("addresses: too many for the record");
  p.addresses_count = static_cast<pb_size_t>(c.addresses.size());
  for (std::size_t i = 0; i < c.addresses.size(); ++i) {
    const m::Address& a = c.addresses[i];
    kassa_link_v1_Address& pa = p.addresses[i];
    pa.purpose = static_cast<kassa_link_v1_AddressPurpose>(a.purpose);
    const bool fits = PutString(pa.street, a.street) && PutString(pa.city, a.city) &&
                      PutString(pa.postal_code, a.postal_code) && PutString(pa.region, a.region) &&
                      PutString(pa.country, a.country) && PutString(pa.contact_name, a.contact_name) &&
                      PutString(pa.contact_phone, a.contact_phone);
    if (!fits) return TooLong("addresses: too long for the record");
  }
  if (!PutString(p.customer_group, c.customer_group)) return TooLong("customer_group: too long for the record");
  p.receipt_preference = static_cast<kassa_link_v1_ReceiptPreference>(c.receipt_preference);
  if (!PutString(p.receipt_email, c.receipt_email)) return TooLong("receipt_email: too long for the record");
  if (!PutString(p.currency, c.currency)) return TooLong("currency: too long for the record");
  if (!PutString(p.language, c.language)) return TooLong("language: too long for the record");
  KASSA_TRY(FillStrings(c.affiliations, p.affiliations, p.affiliations_count, TooLong("affiliations: too long for the record")));
  if (c.attributes.size() > m::kMaxAttributes) return TooLong("attributes: too many for the record");
  p.attributes_count = static_cast<pb_size_t>(c.attributes.size());
  for (std::size_t i = 0; i < c.attributes.size(); ++i) {
    if (!PutString(p.attributes[i].name, c.attributes[i].name) ||
        !PutString(p.attributes[i].value, c.attributes[i].value)) {
      return TooLong("attributes: too long for the record");
    }
  }
  KASSA_TRY(FillStrings(c.loyalty_cards, p.loyalty_cards, p.loyalty_cards_count, TooLong("loyalty_cards: too long for the record")));
  p.created_at_ms = c.created_at_ms;
  p.changed_at_ms = c.changed_at_ms;
  p.version = c.version;
  if (c.financial_dimensions.size() > m::kMaxFinancialDimensions) {
    return TooLong("financial_dimensions: too many for the record");
  }
  p.financial_dimensions_count = static_cast<pb_size_t>(c.financial_dimensions.size());
  for (std::size_t i = 0; i < c.financial_dimensions.size(); ++i) {
    if (!PutString(p.financial_dimensions[i].name, c.financial_dimensions[i].name) ||
        !PutString(p.financial_dimensions[i].value, c.financial_dimensions[i].value)) {
      return TooLong("financial_dimensions: too long for the record");
    }
  }
  return Status::Ok();
}

m::Consent GetConsent(const kassa_link_v1_Consent& in) {
  return m::Consent{in.granted, in.captured_at_ms, GetString(in.operator_id), GetString(in.terminal_id),
                    GetString(in.text_version)};
}

std::vector<m::SecondaryContact> GetContacts(const kassa_link_v1_SecondaryContact* in, pb_size_t count) {
  std::vector<m::SecondaryContact> out;
  out.reserve(count);
  for (pb_size_t i = 0; i < count; ++i) out.push_back({GetString(in[i].value), GetConsent(in[i].consent)});
  return out;
}

Result<m::Customer> ReadCustomer(const kassa_link_v1_Customer& p) {
  m::Customer c;
  std::memcpy(c.id.bytes.data(), p.id, sizeof(p.id));
  c.account = GetString(p.account);
  if (EnumNumber(p.type) != kassa_link_v1_CustomerType_CUSTOMER_TYPE_PERSON &&
      EnumNumber(p.type) != kassa_link_v1_CustomerType_CUSTOMER_TYPE_ORGANIZATION) {
    return Status(StatusCode::kDataLoss, "type: unknown customer type in record");
  }
  c.type = static_cast<m::CustomerType>(EnumNumber(p.type));
  c.first_name = GetString(p.first_name);
  c.last_name = GetString(p.last_name);
  c.organization_name = GetString(p.organization_name);
  c.email = GetString(p.email);
  c.phone = GetString(p.phone);
  if (p.has_email_consent) c.email_consent = GetConsent(p.email_consent);
  if (p.has_phone_consent) c.phone_consent = GetConsent(p.phone_consent);
  c.secondary_emails = GetContacts(p.secondary_emails, p.secondary_emails_count);
  c.secondary_phones = GetContacts(p.secondary_phones, p.secondary_phones_count);
  for (pb_size_t i = 0; i < p.addresses_count; ++i) {
    const kassa_link_v1_Address& pa = p.addresses[i];
    if (EnumNumber(pa.purpose) < kassa_link_v1_AddressPurpose_ADDRESS_PURPOSE_HOME ||
        EnumNumber(pa.purpose) > kassa_link_v1_AddressPurpose_ADDRESS_PURPOSE_POST_BOX) {
      return Status(StatusCode::kDataLoss, "addresses.purpose: unknown purpose in record");
    }
    c.addresses.push_back(m::Address{static_cast<m::AddressPurpose>(EnumNumber(pa.purpose)), GetString(pa.street),
                                     GetString(pa.city), GetString(pa.postal_code), GetString(pa.region),
                                     GetString(pa.country), GetString(pa.contact_name),
                                     GetString(pa.contact_phone)});
  }
  c.customer_group = GetString(p.customer_group);
  if (EnumNumber(p.receipt_preference) < kassa_link_v1_ReceiptPreference_RECEIPT_PREFERENCE_PRINT ||
      EnumNumber(p.receipt_preference) > kassa_link_v1_ReceiptPreference_RECEIPT_PREFERENCE_NONE) {
    return Status(StatusCode::kDataLoss, "receipt_preference: unknown value in record");
  }
  c.receipt_preference = static_cast<m::ReceiptPreference>(EnumNumber(p.receipt_preference));
  c.receipt_email = GetString(p.receipt_email);
  c.currency = GetString(p.currency);
  c.language = GetString(p.language);
  c.affiliations = GetStrings(p.affiliations, p.affiliations_count);
  for (pb_size_t i = 0; i < p.attributes_count; ++i) {
    c.attributes.push_back({GetString(p.attributes[i].name), GetString(p.attributes[i].value)});
  }
  c.loyalty_cards = GetStrings(p.loyalty_cards, p.loyalty_cards_count);
  c.created_at_ms = p.created_at_ms;
  c.changed_at_ms = p.changed_at_ms;
  c.version = p.version;
  for (pb_size_t i = 0; i < p.financial_dimensions_count; ++i) {
    c.financial_dimensions.push_back({GetString(p.financial_dimensions[i].name), GetString(p.financial_dimensions[i].value)});
  }
  return c;
}


namespace {

bool EncodeBase(pb_ostream_t* stream, const pb_field_t* field, void* const* arg) {
  auto bytes = EncodeCustomer(*static_cast<const m::Customer*>(*arg));
  if (!bytes.ok()) PB_RETURN_ERROR(stream, "base: does not fit a customer record");
  return pb_encode_tag_for_field(stream, field) && pb_encode_string(stream, bytes->data(), bytes->size());
}

bool DecodeBase(pb_istream_t* stream, const pb_field_t*, void** arg) {
  auto& bytes = *static_cast<Bytes*>(*arg);
  if (!bytes.empty()) PB_RETURN_ERROR(stream, "base: twice in one operation");
  if (stream->bytes_left > kassa_link_v1_Customer_size) PB_RETURN_ERROR(stream, "base: longer than a customer");
  bytes.resize(stream->bytes_left);
  return pb_read(stream, bytes.data(), bytes.size());
}

}  // namespace

void ExpectBase(kassa_link_v1_Operation& p, Bytes& bytes) {
  bytes.clear();
  p.base.funcs.decode = &DecodeBase;
  p.base.arg = &bytes;
}

Status FillOperation(const m::Operation& op, kassa_link_v1_Operation& p) {
  if (op.base) {
    p.base.funcs.encode = &EncodeBase;
    p.base.arg = const_cast<m::Customer*>(&*op.base);  // nanopb's arg is not const; only read
  }
  std::memcpy(p.op_id, op.op_id.bytes.data(), sizeof(p.op_id));
  p.kind = static_cast<kassa_link_v1_OperationKind>(op.kind);
  p.enqueued_at_ms = op.enqueued_at_ms;
  p.has_customer = true;
  KASSA_TRY(FillCustomer(op.customer, p.customer));
  p.base_version = op.base_version;
  constexpr std::size_t kMaxChanged = sizeof(p.changed_fields) / sizeof(p.changed_fields[0]);
  if (op.changed_fields.size() > kMaxChanged) return TooLong("changed_fields: too many for the record");
  p.changed_fields_count = static_cast<pb_size_t>(op.changed_fields.size());
  for (std::size_t i = 0; i < op.changed_fields.size(); ++i) p.changed_fields[i] = op.changed_fields[i];
  if (!PutString(p.terminal_id, op.terminal_id)) return TooLong("terminal_id: too long for the record");
  if (!PutString(p.operator_id, op.operator_id)) return TooLong("operator_id: too long for the record");
  if (op.book_entry) {
    p.has_book_entry = true;
    KASSA_TRY(FillBookEntry(*op.book_entry, p.book_entry));
  }
  if (op.timeline_entry) {
    p.has_timeline_entry = true;
    KASSA_TRY(FillTimelineEntry(*op.timeline_entry, p.timeline_entry));
  }
  constexpr std::size_t kMaxConsents = sizeof(p.consents) / sizeof(p.consents[0]);
  if (op.consents.size() > kMaxConsents) return TooLong("consents: too many for the record");
  p.consents_count = static_cast<pb_size_t>(op.consents.size());
  for (std::size_t i = 0; i < op.consents.size(); ++i) KASSA_TRY(FillConsentEntry(op.consents[i], p.consents[i]));
  return Status::Ok();
}

Result<m::Operation> ReadOperation(const kassa_link_v1_Operation& p, ByteView base) {
  const int kind = EnumNumber(p.kind);
  if (kind < kassa_link_v1_OperationKind_OPERATION_KIND_CREATE_CUSTOMER ||
      kind > kassa_link_v1_OperationKind_OPERATION_KIND_TIMELINE_ENTRY) {
    return Status(StatusCode::kDataLoss, "kind: unknown operation kind in record");
  }
  if (kind == kassa_link_v1_OperationKind_OPERATION_KIND_BOOK_ENTRY && !p.has_book_entry) {
    return Status(StatusCode::kDataLoss, "book_entry: missing from operation record");
  }
  if (kind == kassa_link_v1_OperationKind_OPERATION_KIND_TIMELINE_ENTRY && !p.has_timeline_entry) {
    return Status(StatusCode::kDataLoss, "timeline_entry: missing from operation record");
  }
  if (!p.has_customer) return Status(StatusCode::kDataLoss, "customer: missing from operation record");
  m::Operation op;
  std::memcpy(op.op_id.bytes.data(), p.op_id, sizeof(p.op_id));
  op.kind = static_cast<m::OperationKind>(EnumNumber(p.kind));
  op.enqueued_at_ms = p.enqueued_at_ms;
  KASSA_TRY_ASSIGN(op.customer, ReadCustomer(p.customer));
  op.base_version = p.base_version;
  op.changed_fields.assign(p.changed_fields, p.changed_fields + p.changed_fields_count);
  op.terminal_id = GetString(p.terminal_id);
  op.operator_id = GetString(p.operator_id);
  if (p.has_book_entry) op.book_entry = ReadBookEntry(p.book_entry);
  if (p.has_timeline_entry) {
    KASSA_TRY_ASSIGN(auto entry, ReadTimelineEntry(p.timeline_entry));
    op.timeline_entry = std::move(entry);
  }
  for (pb_size_t i = 0; i < p.consents_count; ++i) {
    KASSA_TRY_ASSIGN(auto entry, ReadConsentEntry(p.consents[i]));
    op.consents.push_back(std::move(entry));
  }
  if (!base.empty()) {
    if (op.kind != m::OperationKind::kUpdateCustomer) return Status(StatusCode::kDataLoss, "base: only an update has one");
    m::Customer read;
    if (!internal::ReadCustomerWire(base, read).ok()) return Status(StatusCode::kDataLoss, "base: not a customer record");
    if (read.id != op.customer.id) return Status(StatusCode::kDataLoss, "base: of another customer");
    op.base = std::move(read);
  }
  return op;
}

Status FillStoreConfig(const m::StoreConfig& config, kassa_link_v1_StoreConfig& p) {
  if (!PutString(p.store_id, config.store_id)) return TooLong("store_id: too long for the record");
  if (!PutString(p.legal_entity, config.legal_entity)) return TooLong("legal_entity: too long for the record");
  if (!PutString(p.operating_unit_country, config.operating_unit_country)) {
    return TooLong("operating_unit_country: too long for the record");
  }
  const m::DefaultCustomer& d = config.default_customer;
  kassa_link_v1_DefaultCustomer& pd = p.default_customer;
  p.has_default_customer = true;
  pd.type = static_cast<kassa_link_v1_CustomerType>(d.type);
  pd.receipt_preference = static_cast<kassa_link_v1_ReceiptPreference>(d.receipt_preference);
  const bool fits = PutString(pd.account, d.account) && PutString(pd.customer_group, d.customer_group) &&
                    PutString(pd.receipt_email, d.receipt_email) && PutString(pd.currency, d.currency) &&
                    PutString(pd.language, d.language);
  if (!fits) return TooLong("default_customer: too long for the record");
  KASSA_TRY(FillStrings(d.affiliations, pd.affiliations, pd.affiliations_count,
                        TooLong("default_customer.affiliations: too long for the record")));
  if (config.customer_groups.size() > m::kMaxCustomerGroups) return TooLong("customer_groups: too many for the record");
  p.customer_groups_count = static_cast<pb_size_t>(config.customer_groups.size());
  for (std::size_t i = 0; i < config.customer_groups.size(); ++i) {
    if (!PutString(p.customer_groups[i].id, config.customer_groups[i].id) ||
        !PutString(p.customer_groups[i].name, config.customer_groups[i].name)) {
      return TooLong("customer_groups: too long for the record");
    }
  }
  p.creation_mode = static_cast<kassa_link_v1_CreationMode>(config.creation_mode);
  p.allow_offline_creation = config.allow_offline_creation;
  p.lock_after_offline_days = config.lock_after_offline_days;
  return Status::Ok();
}

Result<m::StoreConfig> ReadStoreConfig(const kassa_link_v1_StoreConfig& p) {
  m::StoreConfig c;
  c.store_id = GetString(p.store_id);
  c.legal_entity = GetString(p.legal_entity);
  c.operating_unit_country = GetString(p.operating_unit_country);
  const kassa_link_v1_DefaultCustomer& pd = p.default_customer;
  if ((EnumNumber(pd.type) != kassa_link_v1_CustomerType_CUSTOMER_TYPE_PERSON &&
       EnumNumber(pd.type) != kassa_link_v1_CustomerType_CUSTOMER_TYPE_ORGANIZATION) ||
      EnumNumber(pd.receipt_preference) < kassa_link_v1_ReceiptPreference_RECEIPT_PREFERENCE_PRINT ||
      EnumNumber(pd.receipt_preference) > kassa_link_v1_ReceiptPreference_RECEIPT_PREFERENCE_NONE) {
    return Status(StatusCode::kDataLoss, "default_customer: unknown enum value in record");
  }
  c.default_customer = m::DefaultCustomer{GetString(pd.account), static_cast<m::CustomerType>(EnumNumber(pd.type)),
                                          GetString(pd.customer_group),
                                          static_cast<m::ReceiptPreference>(EnumNumber(pd.receipt_preference)),
                                          GetString(pd.receipt_email), GetString(pd.currency),
                                          GetString(pd.language), GetStrings(pd.affiliations, pd.affiliations_count)};
  for (pb_size_t i = 0; i < p.customer_groups_count; ++i) {
    c.customer_groups.push_back({GetString(p.customer_groups[i].id), GetString(p.customer_groups[i].name)});
  }
  if (EnumNumber(p.creation_mode) != kassa_link_v1_CreationMode_CREATION_MODE_SYNC &&
      EnumNumber(p.creation_mode) != kassa_link_v1_CreationMode_CREATION_MODE_ASYNC) {
    return Status(StatusCode::kDataLoss, "creation_mode: unknown value in record");
  }
  c.creation_mode = static_cast<m::CreationMode>(EnumNumber(p.creation_mode));
  c.allow_offline_creation = p.allow_offline_creation;
  c.lock_after_offline_days = p.lock_after_offline_days;
  return c;
}

}  // namespace internal

using namespace internal;  // NOLINT: this file implements them
namespace m = ::kassa::model;

// The generated structs are several KB (every bound is static): heap, not stack.
template <typename P, typename T, typename Fill>
Result<Bytes> EncodeVia(const pb_msgdesc_t* fields, const T& value, Fill fill) {
  auto p = std::make_unique<P>();  // value-initialized: all zero, as *_init_zero
  KASSA_TRY(fill(value, *p));
  return EncodeMessage(fields, p.get());
}

template <typename P, typename Read>
auto DecodeVia(ByteView bytes, const pb_msgdesc_t* fields, Read read) -> decltype(read(std::declval<const P&>())) {
  auto p = std::make_unique<P>();  // value-initialized: all zero, as *_init_zero
  KASSA_TRY(DecodeMessage(bytes, fields, p.get()));
  return read(*p);
}

Result<Bytes> EncodeCustomer(const m::Customer& customer) {
  return EncodeVia<kassa_link_v1_Customer>(kassa_link_v1_Customer_fields, customer, FillCustomer);
}
Result<m::Customer> DecodeCustomer(ByteView bytes) {
  m::Customer c;
  KASSA_TRY(internal::ReadCustomerWire(bytes, c));
  return c;
}

Status DecodeCustomerInto(ByteView bytes, m::Customer& out) {
  out = m::Customer();
  return internal::ReadCustomerWire(bytes, out);
}
Result<Bytes> EncodeOperation(const m::Operation& op) {
  return EncodeVia<kassa_link_v1_Operation>(kassa_link_v1_Operation_fields, op, FillOperation);
}
Result<m::Operation> DecodeOperation(ByteView bytes) {
  auto p = std::make_unique<kassa_link_v1_Operation>();
  Bytes base;
  ExpectBase(*p, base);
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_Operation_fields, p.get()));
  return ReadOperation(*p, base);
}
Result<Bytes> EncodeStoreConfig(const m::StoreConfig& config) {
  return EncodeVia<kassa_link_v1_StoreConfig>(kassa_link_v1_StoreConfig_fields, config, FillStoreConfig);
}
Result<m::StoreConfig> DecodeStoreConfig(ByteView bytes) {
  return DecodeVia<kassa_link_v1_StoreConfig>(bytes, kassa_link_v1_StoreConfig_fields, ReadStoreConfig);
}

}  // namespace kassa::proto_codec
