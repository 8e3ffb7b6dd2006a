#include "customer_wire_reader.h"

#include <cstring>

#include "kassa/model/limits.h"

namespace kassa::proto_codec::internal {
namespace {

namespace m = model;

enum WireType : unsigned { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

constexpr Status Bad(const char* detail) { return Status(StatusCode::kDataLoss, detail); }

// One message's bytes, read front to back.
class Wire {
 public:
  explicit Wire(ByteView bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }

  Status Varint(std::uint64_t& out) {
    out = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Bad("record: truncated varint");
      const std::uint8_t b = *p_++;
      out |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return Status::Ok();
    }
    return Bad("record: varint longer than 10 bytes");
  }

  Status Tag(unsigned& field, unsigned& wire_type) {
    std::uint64_t tag = 0;
    KASSA_TRY(Varint(tag));
    if (tag > UINT32_MAX) return Bad("record: invalid field number");
    field = static_cast<unsigned>(tag >> 3);
    wire_type = static_cast<unsigned>(tag & 7);
    if (field == 0) return Bad("record: zero field number");
    return Status::Ok();
  }

  Status Bytes(ByteView& out) {
    std::uint64_t n = 0;
    KASSA_TRY(Varint(n));
    if (n > static_cast<std::uint64_t>(end_ - p_)) return Bad("record: length past the end");
    out = ByteView(p_, static_cast<std::size_t>(n));
    p_ += n;
    return Status::Ok();
  }

  Status Skip(unsigned wire_type) {
    std::uint64_t ignored = 0;
    ByteView skipped;
    switch (wire_type) {
      case kVarint: return Varint(ignored);
      case kLengthDelimited: return Bytes(skipped);
      case kFixed64: return Advance(8);
      case kFixed32: return Advance(4);
      default: return Bad("record: invalid wire type");
    }
  }

 private:
  Status Advance(std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) return Bad("record: truncated fixed field");
    p_ += n;
    return Status::Ok();
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

Status WantVarint(unsigned wire_type) {
  return wire_type == kVarint ? Status::Ok() : Bad("record: wrong wire type for a number");
}

// A string field: at most `max` bytes on the wire; nanopb's char arrays end
// it at its first NUL.
Status String(Wire& w, unsigned wire_type, std::size_t max, std::string& out) {
  if (wire_type != kLengthDelimited) return Bad("record: wrong wire type for a string");
  ByteView b;
  KASSA_TRY(w.Bytes(b));
  if (b.size() > max) return Bad("record: string longer than its bound");
  const auto* text = reinterpret_cast<const char*>(b.data());
  out.assign(text, strnlen(text, b.size()));
  return Status::Ok();
}

Status Int64(Wire& w, unsigned wire_type, std::int64_t& out) {
  KASSA_TRY(WantVarint(wire_type));
  std::uint64_t v = 0;
  KASSA_TRY(w.Varint(v));
  out = static_cast<std::int64_t>(v);
  return Status::Ok();
}

// An enum (int32 on the wire): the raw value, range-checked by the caller.
Status Enum(Wire& w, unsigned wire_type, std::int64_t& out) {
  KASSA_TRY(Int64(w, wire_type, out));
  if (out < INT32_MIN || out > INT32_MAX) return Bad("record: enum value out of range");
  return Status::Ok();
}

Status Submessage(Wire& w, unsigned wire_type, ByteView& out) {
  if (wire_type != kLengthDelimited) return Bad("record: wrong wire type for a message");
  return w.Bytes(out);
}

Status ReadConsent(ByteView bytes, m::Consent& c) {
  Wire w(bytes);
  while (!w.done()) {
    unsigned field = 0, type = 0;
    KASSA_TRY(w.Tag(field, type));
    switch (field) {
      case 1: {
        KASSA_TRY(WantVarint(type));
        std::uint64_t v = 0;
        KASSA_TRY(w.Varint(v));
        // nanopb reads a bool as a 32-bit varint: more is an error unless it
        // is a negative int32 sign-extended to 64 bits.
        if (v > UINT32_MAX && v < 0xFFFFFFFF80000000ull) return Bad("record: bool larger than 32 bits");
        c.granted = static_cast<std::uint32_t>(v) != 0;
        break;
      }
      case 2: KASSA_TRY(Int64(w, type, c.captured_at_ms)); break;
      case 3: KASSA_TRY(String(w, type, m::kMaxOperatorIdBytes, c.operator_id)); break;
      case 4: KASSA_TRY(String(w, type, m::kMaxTerminalIdBytes, c.terminal_id)); break;
      case 5: KASSA_TRY(String(w, type, m::kMaxConsentTextVersionBytes, c.text_version)); break;
      default: KASSA_TRY(w.Skip(type));
    }
  }
  return Status::Ok();
}

Status ReadContact(ByteView bytes, m::SecondaryContact& c) {
  Wire w(bytes);
  while (!w.done()) {
    unsigned field = 0, type = 0;
    KASSA_TRY(w.Tag(field, type));
    if (field == 1) {
      KASSA_TRY(String(w, type, m::kMaxEmailBytes, c.value));
    } else if (field == 2) {
      // A repeated submessage field merges, as protobuf (and nanopb) do.
      ByteView consent;
      KASSA_TRY(Submessage(w, type, consent));
      KASSA_TRY(ReadConsent(consent, c.consent));
    } else {
      KASSA_TRY(w.Skip(type));
    }
  }
  return Status::Ok();
}

Status ReadAddress(ByteView bytes, m::Address& a) {
  Wire w(bytes);
  std::int64_t purpose = 0;
  while (!w.done()) {
    unsigned field = 0, type = 0;
    KASSA_TRY(w.Tag(field, type));
    switch (field) {
      case 1: KASSA_TRY(Enum(w, type, purpose)); break;
      case 2: KASSA_TRY(String(w, type, m::kMaxStreetBytes, a.street)); break;
      case 3: KASSA_TRY(String(w, type, m::kMaxCityBytes, a.city)); break;
      case 4: KASSA_TRY(String(w, type, m::kMaxPostalCodeBytes, a.postal_code)); break;
      case 5: KASSA_TRY(String(w, type, m::kMaxRegionBytes, a.region)); break;
      case 6: KASSA_TRY(String(w, type, m::kMaxCountryBytes, a.country)); break;
      case 7: KASSA_TRY(String(w, type, m::kMaxContactNameBytes, a.contact_name)); break;
      case 8: KASSA_TRY(String(w, type, m::kMaxPhoneBytes, a.contact_phone)); break;
      default: KASSA_TRY(w.Skip(type));
    }
  }
  if (purpose < static_cast<int>(m::AddressPurpose::kHome) || purpose > static_cast<int>(m::AddressPurpose::kPostBox)) {
    return Bad("addresses.purpose: unknown purpose in record");
  }
  a.purpose = static_cast<m::AddressPurpose>(purpose);
  return Status::Ok();
}

Status ReadAttribute(ByteView bytes, m::AttributeValue& a) {
  Wire w(bytes);
  while (!w.done()) {
    unsigned field = 0, type = 0;
    KASSA_TRY(w.Tag(field, type));
    if (field == 1) KASSA_TRY(String(w, type, m::kMaxAttributeNameBytes, a.name));
    else if (field == 2) KASSA_TRY(String(w, type, m::kMaxAttributeValueBytes, a.value));
    else KASSA_TRY(w.Skip(type));
  }
  return Status::Ok();
}

// Appends one element of a repeated field, refusing more than `max`.
template <typename T>
Result<T*> Append(std::vector<T>& list, std::size_t max) {
  if (list.size() >= max) return Bad("record: more elements than the field's bound");
  return &list.emplace_back();
}

}  // namespace

Status ReadCustomerWire(ByteView bytes, m::Customer& c) {
  std::int64_t type = 0, receipt = 0;
  Wire w(bytes);
  while (!w.done()) {
    unsigned field = 0, wt = 0;
    KASSA_TRY(w.Tag(field, wt));
    switch (field) {
      case 1: {
        if (wt != kLengthDelimited) return Bad("record: wrong wire type for the id");
        ByteView id;
        KASSA_TRY(w.Bytes(id));
        // Empty is all zeros, as nanopb reads a fixed-length bytes field.
        if (id.empty()) c.id = m::LocalId();
        else if (id.size() != c.id.bytes.size()) return Bad("id: not 16 bytes");
        else std::memcpy(c.id.bytes.data(), id.data(), id.size());
        break;
      }
      case 2: KASSA_TRY(String(w, wt, m::kMaxAccountBytes, c.account)); break;
      case 3: KASSA_TRY(Enum(w, wt, type)); break;
      case 4: KASSA_TRY(String(w, wt, m::kMaxPersonNameBytes, c.first_name)); break;
      case 5: KASSA_TRY(String(w, wt, m::kMaxPersonNameBytes, c.last_name)); break;
      case 6: KASSA_TRY(String(w, wt, m::kMaxOrgNameBytes, c.organization_name)); break;
      case 7: KASSA_TRY(String(w, wt, m::kMaxEmailBytes, c.email)); break;
      case 8: KASSA_TRY(String(w, wt, m::kMaxPhoneBytes, c.phone)); break;
      case 24:
      case 25: {
        ByteView sub;
        KASSA_TRY(Submessage(w, wt, sub));
        // Present twice, nanopb merges the second into the first: so does this.
        KASSA_TRY(ReadConsent(sub, field == 24 ? c.email_consent : c.phone_consent));
        break;
      }
      case 9:
      case 10: {
        ByteView sub;
        KASSA_TRY(Submessage(w, wt, sub));
        KASSA_TRY_ASSIGN(m::SecondaryContact* sc,
                         Append(field == 9 ? c.secondary_emails : c.secondary_phones, m::kMaxSecondaryContacts));
        KASSA_TRY(ReadContact(sub, *sc));
        break;
      }
      case 11: {
        ByteView sub;
        KASSA_TRY(Submessage(w, wt, sub));
        KASSA_TRY_ASSIGN(m::Address* a, Append(c.addresses, m::kMaxAddresses));
        KASSA_TRY(ReadAddress(sub, *a));
        break;
      }
      case 12: KASSA_TRY(String(w, wt, m::kMaxGroupIdBytes, c.customer_group)); break;
      case 13: KASSA_TRY(Enum(w, wt, receipt)); break;
      case 14: KASSA_TRY(String(w, wt, m::kMaxEmailBytes, c.receipt_email)); break;
      case 15: KASSA_TRY(String(w, wt, m::kMaxCurrencyBytes, c.currency)); break;
      case 16: KASSA_TRY(String(w, wt, m::kMaxLanguageBytes, c.language)); break;
      case 17: {
        KASSA_TRY_ASSIGN(std::string* s, Append(c.affiliations, m::kMaxAffiliations));
        KASSA_TRY(String(w, wt, m::kMaxAffiliationBytes, *s));
        break;
      }
      case 18:
      case 23: {
        ByteView sub;
        KASSA_TRY(Submessage(w, wt, sub));
        KASSA_TRY_ASSIGN(m::AttributeValue* a,
                         field == 18 ? Append(c.attributes, m::kMaxAttributes)
                                     : Append(c.financial_dimensions, m::kMaxFinancialDimensions));
        KASSA_TRY(ReadAttribute(sub, *a));
        break;
      }
      case 19: {
        KASSA_TRY_ASSIGN(std::string* s, Append(c.loyalty_cards, m::kMaxLoyaltyCards));
        KASSA_TRY(String(w, wt, m::kMaxLoyaltyCardBytes, *s));
        break;
      }
      case 20: KASSA_TRY(Int64(w, wt, c.created_at_ms)); break;
      case 21: KASSA_TRY(Int64(w, wt, c.changed_at_ms)); break;
      case 22: {
        KASSA_TRY(WantVarint(wt));
        std::uint64_t v = 0;
        KASSA_TRY(w.Varint(v));
        if (v > UINT32_MAX) return Bad("version: larger than 32 bits");
        c.version = static_cast<std::uint32_t>(v);
        break;
      }
      default: KASSA_TRY(w.Skip(wt));
    }
  }
  if (type != static_cast<int>(m::CustomerType::kPerson) && type != static_cast<int>(m::CustomerType::kOrganization)) {
    return Bad("type: unknown customer type in record");
  }
  c.type = static_cast<m::CustomerType>(type);
  if (receipt < static_cast<int>(m::ReceiptPreference::kPrint) ||
      receipt > static_cast<int>(m::ReceiptPreference::kNone)) {
    return Bad("receipt_preference: unknown value in record");
  }
  c.receipt_preference = static_cast<m::ReceiptPreference>(receipt);
  return Status::Ok();
}

}  // namespace kassa::proto_codec::internal
