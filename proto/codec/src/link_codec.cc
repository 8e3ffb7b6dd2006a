#include "kassa/proto_codec/link_codec.h"

#include <pb_decode.h>
#include <pb_encode.h>

#include <memory>

#include "kassa/link/v1/link.pb.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/model/limits.h"
#include "nanopb_io.h"

namespace kassa::proto_codec {
namespace {

namespace m = ::kassa::model;
using namespace internal;  // NOLINT: the codec's shared helpers

static_assert(sizeof(kassa_link_v1_UploadAcks::acks) / sizeof(kassa_link_v1_OperationAck) == m::kMaxBatchOperations);
static_assert(sizeof(kassa_link_v1_OperationAck::reason) == m::kMaxReasonBytes + 1);
static_assert(sizeof(kassa_link_v1_SearchRequest::query) == m::kMaxSearchQueryBytes + 1);
static_assert(sizeof(kassa_link_v1_Hello::terminal_id) == m::kMaxTerminalIdBytes + 1);
static_assert(sizeof(kassa_link_v1_Hello::store_id) == m::kMaxStoreIdBytes + 1);
static_assert(sizeof(kassa_link_v1_AccessEvents::events) / sizeof(kassa_link_v1_AccessEvent) == m::kMaxAccessEvents);
static_assert(sizeof(kassa_link_v1_AccessEvent::operator_id) == m::kMaxOperatorIdBytes + 1);
static_assert(kassa_link_v1_AccessAction_ACCESS_ACTION_ERASED == m::kMaxAccessAction);

Status Bad(const char* detail) { return Status(StatusCode::kDataLoss, detail); }

// Field numbers of the element-wise repeated fields.
constexpr std::uint32_t kBatchOperationsField = kassa_link_v1_UploadBatch_operations_tag;
constexpr std::uint32_t kDistributionChangesField = kassa_link_v1_Distribution_changes_tag;
constexpr std::uint32_t kSearchCustomersField = kassa_link_v1_SearchReply_customers_tag;

void AppendVarint(std::uint64_t v, Bytes& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// Appends `element` as field `field` (wire type 2) of the message in `out`.
void AppendElement(std::uint32_t field, ByteView element, Bytes& out) {
  AppendVarint((std::uint64_t{field} << 3) | PB_WT_STRING, out);
  AppendVarint(element.size(), out);
  out.insert(out.end(), element.begin(), element.end());
}

// Calls `visit` with the bytes of each element of repeated message field
// `field`, in order, skipping other fields; refuses more than `max`.
template <typename Visit>
Status ForEachElement(ByteView bytes, std::uint32_t field, std::size_t max, const char* too_many, Visit&& visit) {
  pb_istream_t stream = pb_istream_from_buffer(bytes.data(), bytes.size());
  std::size_t count = 0;
  while (stream.bytes_left > 0) {
    pb_wire_type_t wire_type{};
    std::uint32_t tag = 0;
    bool eof = false;
    if (!pb_decode_tag(&stream, &wire_type, &tag, &eof)) {
      if (eof) break;
      return Bad(PB_GET_ERROR(&stream));
    }
    if (tag != field) {
      if (!pb_skip_field(&stream, wire_type)) return Bad(PB_GET_ERROR(&stream));
      continue;
    }
    if (wire_type != PB_WT_STRING) return Bad("repeated message field with the wrong wire type");
    if (++count > max) return Bad(too_many);
    pb_istream_t sub{};
    if (!pb_make_string_substream(&stream, &sub)) return Bad(PB_GET_ERROR(&stream));
    const std::size_t offset = bytes.size() - stream.bytes_left - sub.bytes_left;
    const ByteView element = bytes.subspan(offset, sub.bytes_left);
    // Consume the element so the parent stream moves past it.
    if (!pb_read(&sub, nullptr, sub.bytes_left) || !pb_close_string_substream(&stream, &sub)) {
      return Bad(PB_GET_ERROR(&stream));
    }
    KASSA_TRY(visit(element));
  }
  return Status::Ok();
}

template <typename P>
std::unique_ptr<P> Zeroed() {
  return std::make_unique<P>();  // value-initialized: all zero, as *_init_zero
}

Status FillAck(const m::OperationAck& ack, kassa_link_v1_OperationAck& p) {
  std::memcpy(p.op_id, ack.op_id.bytes.data(), sizeof(p.op_id));
  p.outcome = ack.applied() ? kassa_link_v1_AckOutcome_ACK_OUTCOME_APPLIED : kassa_link_v1_AckOutcome_ACK_OUTCOME_REJECTED;
  std::memcpy(p.customer_id, ack.customer_id.bytes.data(), sizeof(p.customer_id));
  if (!PutString(p.account, ack.account)) return TooLong("account: too long for the record");
  p.version = ack.version;
  const std::string reason = ack.reason.substr(0, m::kMaxReasonBytes);
  if (!PutString(p.reason, reason)) return TooLong("reason: not a valid reason");
  return Status::Ok();
}

Result<m::OperationAck> ReadAck(const kassa_link_v1_OperationAck& p) {
  m::OperationAck ack;
  if (EnumNumber(p.outcome) == kassa_link_v1_AckOutcome_ACK_OUTCOME_APPLIED) {
    ack.outcome = m::OperationAck::Outcome::kApplied;
  } else if (EnumNumber(p.outcome) == kassa_link_v1_AckOutcome_ACK_OUTCOME_REJECTED) {
    ack.outcome = m::OperationAck::Outcome::kRejected;
  } else {
    return Bad("outcome: unknown acknowledgement outcome");
  }
  std::memcpy(ack.op_id.bytes.data(), p.op_id, sizeof(p.op_id));
  std::memcpy(ack.customer_id.bytes.data(), p.customer_id, sizeof(p.customer_id));
  ack.account = GetString(p.account);
  ack.version = p.version;
  ack.reason = GetString(p.reason);
  return ack;
}

}  // namespace

Result<Bytes> EncodeHello(const m::Hello& hello) {
  kassa_link_v1_Hello p = kassa_link_v1_Hello_init_zero;
  if (!PutString(p.terminal_id, hello.terminal_id)) return TooLong("terminal_id: too long");
  if (!PutString(p.store_id, hello.store_id)) return TooLong("store_id: too long");
  p.protocol_version = hello.protocol_version;
  p.distribution_cursor = hello.distribution_cursor;
  return EncodeMessage(kassa_link_v1_Hello_fields, &p);
}

Result<m::Hello> DecodeHello(ByteView bytes) {
  kassa_link_v1_Hello p = kassa_link_v1_Hello_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_Hello_fields, &p));
  return m::Hello{GetString(p.terminal_id), GetString(p.store_id), p.protocol_version, p.distribution_cursor};
}

Result<Bytes> EncodeWelcome(const m::Welcome& welcome) {
  kassa_link_v1_Welcome p = kassa_link_v1_Welcome_init_zero;
  p.protocol_version = welcome.protocol_version;
  p.head_cursor = welcome.head_cursor;
  p.server_time_ms = welcome.server_time_ms;
  p.wipe_ordered_at_ms = welcome.wipe_ordered_at_ms;
  return EncodeMessage(kassa_link_v1_Welcome_fields, &p);
}

Result<m::Welcome> DecodeWelcome(ByteView bytes) {
  kassa_link_v1_Welcome p = kassa_link_v1_Welcome_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_Welcome_fields, &p));
  return m::Welcome{p.protocol_version, p.head_cursor, p.server_time_ms, p.wipe_ordered_at_ms};
}

Result<Bytes> EncodeWipeDone(std::int64_t ordered_at_ms) {
  kassa_link_v1_WipeDone p = kassa_link_v1_WipeDone_init_zero;
  p.ordered_at_ms = ordered_at_ms;
  return EncodeMessage(kassa_link_v1_WipeDone_fields, &p);
}

Result<std::int64_t> DecodeWipeDone(ByteView bytes) {
  kassa_link_v1_WipeDone p = kassa_link_v1_WipeDone_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_WipeDone_fields, &p));
  return std::int64_t{p.ordered_at_ms};
}

Result<Bytes> EncodeLinkError(std::string_view reason) {
  kassa_link_v1_LinkError p = kassa_link_v1_LinkError_init_zero;
  if (!PutString(p.reason, std::string(reason.substr(0, m::kMaxReasonBytes)))) return TooLong("reason: not valid");
  return EncodeMessage(kassa_link_v1_LinkError_fields, &p);
}

Result<std::string> DecodeLinkError(ByteView bytes) {
  kassa_link_v1_LinkError p = kassa_link_v1_LinkError_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_LinkError_fields, &p));
  return GetString(p.reason);
}

namespace {

// Operation.implied bits (operation.proto).
constexpr std::uint32_t kImpliedOpIdIsCustomerId = 1;
constexpr std::uint32_t kImpliedTerminalIsSender = 2;
constexpr std::uint32_t kImpliedEnqueuedAtIsChangedAt = 4;
constexpr std::uint32_t kImpliedChangedAtIsCreatedAt = 8;
constexpr std::uint32_t kImpliedConsentTerminalIsSender = 16;
constexpr std::uint32_t kImpliedAll = 31;

// The operation without what the receiver can fill in, and which that is.
std::uint32_t LeaveOutImplied(m::Operation& op, std::string_view sender) {
  std::uint32_t implied = 0;
  if (op.op_id == op.customer.id) {
    implied |= kImpliedOpIdIsCustomerId;
    op.op_id = m::LocalId();  // all zero: not encoded
  }
  if (!sender.empty() && op.terminal_id == sender) {
    implied |= kImpliedTerminalIsSender;
    op.terminal_id.clear();
  }
  if (op.enqueued_at_ms == op.customer.changed_at_ms) {
    implied |= kImpliedEnqueuedAtIsChangedAt;
    op.enqueued_at_ms = 0;
  }
  if (op.customer.changed_at_ms == op.customer.created_at_ms) {
    implied |= kImpliedChangedAtIsCreatedAt;
    op.customer.changed_at_ms = 0;
  }
  const auto consents = [&](auto&& each) {
    for (auto* list : {&op.customer.secondary_emails, &op.customer.secondary_phones}) {
      for (auto& contact : *list) each(contact.consent);
    }
    for (auto* primary : {&op.customer.email_consent, &op.customer.phone_consent}) {
      if (*primary != m::Consent{}) each(*primary);
    }
  };
  bool all_sender = !sender.empty();
  std::size_t count = 0;
  consents([&](const m::Consent& c) {
    all_sender = all_sender && c.terminal_id == sender;
    ++count;
  });
  if (all_sender && count > 0) {
    implied |= kImpliedConsentTerminalIsSender;
    consents([](m::Consent& c) { c.terminal_id.clear(); });
  }
  return implied;
}

Status FillInImplied(std::uint32_t implied, std::string_view sender, m::Operation& op) {
  if ((implied & ~kImpliedAll) != 0) return Status(StatusCode::kDataLoss, "implied: unknown bits");
  if ((implied & (kImpliedTerminalIsSender | kImpliedConsentTerminalIsSender)) != 0 && sender.empty()) {
    return Status(StatusCode::kDataLoss, "implied: the terminal id is implied but the sender is unknown");
  }
  if (implied & kImpliedOpIdIsCustomerId) op.op_id = op.customer.id;
  if (implied & kImpliedTerminalIsSender) op.terminal_id = std::string(sender);
  if (implied & kImpliedChangedAtIsCreatedAt) op.customer.changed_at_ms = op.customer.created_at_ms;
  if (implied & kImpliedEnqueuedAtIsChangedAt) op.enqueued_at_ms = op.customer.changed_at_ms;
  if (implied & kImpliedConsentTerminalIsSender) {
    for (auto* list : {&op.customer.secondary_emails, &op.customer.secondary_phones}) {
      for (auto& contact : *list) contact.consent.terminal_id = std::string(sender);
    }
    for (auto* primary : {&op.customer.email_consent, &op.customer.phone_consent}) {
      if (*primary != m::Consent{}) primary->terminal_id = std::string(sender);
    }
  }
  return Status::Ok();
}

}  // namespace

Status AppendUploadOperation(const m::Operation& op, std::string_view sender, Bytes& batch) {
  m::Operation sent = op;
  const std::uint32_t implied = LeaveOutImplied(sent, sender);
  auto p = Zeroed<kassa_link_v1_Operation>();
  KASSA_TRY(FillOperation(sent, *p));
  p->implied = implied;
  KASSA_TRY_ASSIGN(const Bytes element, EncodeMessage(kassa_link_v1_Operation_fields, p.get()));
  AppendElement(kBatchOperationsField, element, batch);
  return Status::Ok();
}

Result<std::vector<m::Operation>> DecodeUploadBatch(ByteView bytes, std::string_view sender) {
  std::vector<m::Operation> ops;
  auto p = Zeroed<kassa_link_v1_Operation>();
  Bytes base;
  KASSA_TRY(ForEachElement(bytes, kBatchOperationsField, m::kMaxBatchOperations,
                           "operations: more than 64 in one batch", [&](ByteView element) -> Status {
                             *p = kassa_link_v1_Operation{};
                             ExpectBase(*p, base);
                             KASSA_TRY(DecodeMessage(element, kassa_link_v1_Operation_fields, p.get()));
                             KASSA_TRY_ASSIGN(m::Operation op, ReadOperation(*p, base));
                             KASSA_TRY(FillInImplied(p->implied, sender, op));
                             ops.push_back(std::move(op));
                             return Status::Ok();
                           }));
  return ops;
}

Result<Bytes> EncodeUploadAcks(std::span<const m::OperationAck> acks) {
  if (acks.size() > m::kMaxBatchOperations) return TooLong("acks: more than 64");
  auto p = Zeroed<kassa_link_v1_UploadAcks>();
  p->acks_count = static_cast<pb_size_t>(acks.size());
  for (std::size_t i = 0; i < acks.size(); ++i) KASSA_TRY(FillAck(acks[i], p->acks[i]));
  return EncodeMessage(kassa_link_v1_UploadAcks_fields, p.get());
}

Result<std::vector<m::OperationAck>> DecodeUploadAcks(ByteView bytes) {
  auto p = Zeroed<kassa_link_v1_UploadAcks>();
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_UploadAcks_fields, p.get()));
  std::vector<m::OperationAck> acks;
  for (pb_size_t i = 0; i < p->acks_count; ++i) {
    KASSA_TRY_ASSIGN(m::OperationAck ack, ReadAck(p->acks[i]));
    acks.push_back(std::move(ack));
  }
  return acks;
}

Result<Bytes> EncodeRealtimeRequest(const m::RealtimeRequest& request) {
  auto p = Zeroed<kassa_link_v1_RealtimeRequest>();
  p->request_id = request.request_id;
  p->has_operation = true;
  KASSA_TRY(FillOperation(request.operation, p->operation));
  return EncodeMessage(kassa_link_v1_RealtimeRequest_fields, p.get());
}

Result<m::RealtimeRequest> DecodeRealtimeRequest(ByteView bytes) {
  auto p = Zeroed<kassa_link_v1_RealtimeRequest>();
  Bytes base;
  ExpectBase(p->operation, base);
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_RealtimeRequest_fields, p.get()));
  if (!p->has_operation) return Bad("operation: missing from the request");
  m::RealtimeRequest request;
  request.request_id = p->request_id;
  KASSA_TRY_ASSIGN(request.operation, ReadOperation(p->operation, base));
  return request;
}

Result<Bytes> EncodeRealtimeReply(const m::RealtimeReply& reply) {
  kassa_link_v1_RealtimeReply p = kassa_link_v1_RealtimeReply_init_zero;
  p.request_id = reply.request_id;
  p.has_ack = true;
  KASSA_TRY(FillAck(reply.ack, p.ack));
  return EncodeMessage(kassa_link_v1_RealtimeReply_fields, &p);
}

Result<m::RealtimeReply> DecodeRealtimeReply(ByteView bytes) {
  kassa_link_v1_RealtimeReply p = kassa_link_v1_RealtimeReply_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_RealtimeReply_fields, &p));
  if (!p.has_ack) return Bad("ack: missing from the reply");
  m::RealtimeReply reply;
  reply.request_id = p.request_id;
  KASSA_TRY_ASSIGN(reply.ack, ReadAck(p.ack));
  return reply;
}

Status AppendDistributionChange(const m::Change& change, Bytes& distribution) {
  auto p = Zeroed<kassa_link_v1_Change>();
  p->seq = change.seq;
  p->kind = static_cast<kassa_link_v1_ChangeKind>(change.kind);
  if (change.kind == m::Change::Kind::kCustomerUpsert) {
    p->has_customer = true;
    KASSA_TRY(FillCustomer(change.customer, p->customer));
  } else if (change.kind == m::Change::Kind::kStoreConfig) {
    p->has_store_config = true;
    KASSA_TRY(FillStoreConfig(change.store_config, p->store_config));
  } else if (change.kind == m::Change::Kind::kCustomerErased) {
    std::memcpy(p->erased_customer_id, change.erased.bytes.data(), sizeof(p->erased_customer_id));
  } else {
    p->has_clienteling = true;
    KASSA_TRY(FillClientelingRecord(change.clienteling, p->clienteling));
  }
  KASSA_TRY_ASSIGN(const Bytes element, EncodeMessage(kassa_link_v1_Change_fields, p.get()));
  AppendElement(kDistributionChangesField, element, distribution);
  return Status::Ok();
}

Result<std::vector<m::Change>> DecodeDistribution(ByteView bytes) {
  std::vector<m::Change> changes;
  auto p = Zeroed<kassa_link_v1_Change>();
  KASSA_TRY(ForEachElement(bytes, kDistributionChangesField, m::kMaxDistributionChanges,
                           "changes: more than 64 in one distribution", [&](ByteView element) -> Status {
                             *p = kassa_link_v1_Change{};
                             KASSA_TRY(DecodeMessage(element, kassa_link_v1_Change_fields, p.get()));
                             m::Change change;
                             change.seq = p->seq;
                             if (EnumNumber(p->kind) == kassa_link_v1_ChangeKind_CHANGE_KIND_CUSTOMER_UPSERT && p->has_customer) {
                               change.kind = m::Change::Kind::kCustomerUpsert;
                               KASSA_TRY_ASSIGN(change.customer, ReadCustomer(p->customer));
                             } else if (EnumNumber(p->kind) == kassa_link_v1_ChangeKind_CHANGE_KIND_STORE_CONFIG &&
                                        p->has_store_config) {
                               change.kind = m::Change::Kind::kStoreConfig;
                               KASSA_TRY_ASSIGN(change.store_config, ReadStoreConfig(p->store_config));
                             } else if (EnumNumber(p->kind) == kassa_link_v1_ChangeKind_CHANGE_KIND_CLIENTELING &&
                                        p->has_clienteling) {
                               change.kind = m::Change::Kind::kClienteling;
                               KASSA_TRY_ASSIGN(change.clienteling, ReadClientelingRecord(p->clienteling));
                             } else if (EnumNumber(p->kind) == kassa_link_v1_ChangeKind_CHANGE_KIND_CUSTOMER_ERASED) {
                               change.kind = m::Change::Kind::kCustomerErased;
                               std::memcpy(change.erased.bytes.data(), p->erased_customer_id,
                                           sizeof(p->erased_customer_id));
                               if (change.erased.is_zero()) return Bad("changes: an erasure without a customer id");
                             } else {
                               return Bad("changes: unknown change kind or missing body");
                             }
                             changes.push_back(std::move(change));
                             return Status::Ok();
                           }));
  return changes;
}

Result<Bytes> EncodeDistributionAck(std::uint64_t cursor) {
  kassa_link_v1_DistributionAck p = kassa_link_v1_DistributionAck_init_zero;
  p.cursor = cursor;
  return EncodeMessage(kassa_link_v1_DistributionAck_fields, &p);
}

Result<std::uint64_t> DecodeDistributionAck(ByteView bytes) {
  kassa_link_v1_DistributionAck p = kassa_link_v1_DistributionAck_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_DistributionAck_fields, &p));
  return std::uint64_t{p.cursor};
}

Result<Bytes> EncodeSearchRequest(const m::SearchRequest& request) {
  kassa_link_v1_SearchRequest p = kassa_link_v1_SearchRequest_init_zero;
  p.request_id = request.request_id;
  if (!PutString(p.query, request.query)) return TooLong("q: longer than 256 bytes");
  p.limit = request.limit;
  return EncodeMessage(kassa_link_v1_SearchRequest_fields, &p);
}

Result<m::SearchRequest> DecodeSearchRequest(ByteView bytes) {
  kassa_link_v1_SearchRequest p = kassa_link_v1_SearchRequest_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_SearchRequest_fields, &p));
  return m::SearchRequest{p.request_id, GetString(p.query), p.limit};
}

Result<Bytes> EncodeSearchReply(const m::SearchReply& reply) {
  if (reply.customers.size() > m::kMaxSearchResults) return TooLong("customers: too many results");
  kassa_link_v1_SearchReply p = kassa_link_v1_SearchReply_init_zero;
  p.request_id = reply.request_id;
  if (!PutString(p.error, reply.error.substr(0, m::kMaxReasonBytes))) return TooLong("error: not valid");
  KASSA_TRY_ASSIGN(Bytes out, EncodeMessage(kassa_link_v1_SearchReply_fields, &p));
  for (const auto& c : reply.customers) {
    KASSA_TRY_ASSIGN(const Bytes element, EncodeCustomer(c));
    AppendElement(kSearchCustomersField, element, out);
  }
  return out;
}

Result<m::SearchReply> DecodeSearchReply(ByteView bytes) {
  // The callback field has no decoder set, so nanopb skips it here.
  kassa_link_v1_SearchReply p = kassa_link_v1_SearchReply_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_SearchReply_fields, &p));
  m::SearchReply reply;
  reply.request_id = p.request_id;
  reply.error = GetString(p.error);
  KASSA_TRY(ForEachElement(bytes, kSearchCustomersField, m::kMaxSearchResults, "customers: too many results",
                           [&](ByteView element) -> Status {
                             KASSA_TRY_ASSIGN(m::Customer c, DecodeCustomer(element));
                             reply.customers.push_back(std::move(c));
                             return Status::Ok();
                           }));
  return reply;
}

Result<Bytes> EncodeHeartbeat(std::int64_t sent_at_ms) {
  kassa_link_v1_Heartbeat p = kassa_link_v1_Heartbeat_init_zero;
  p.sent_at_ms = sent_at_ms;
  return EncodeMessage(kassa_link_v1_Heartbeat_fields, &p);
}

Result<std::int64_t> DecodeHeartbeat(ByteView bytes) {
  kassa_link_v1_Heartbeat p = kassa_link_v1_Heartbeat_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_Heartbeat_fields, &p));
  return std::int64_t{p.sent_at_ms};
}

Result<Bytes> EncodeAccessEvents(std::span<const m::AccessEvent> events) {
  if (events.size() > m::kMaxAccessEvents) return TooLong("events: more than 128 in one frame");
  auto p = Zeroed<kassa_link_v1_AccessEvents>();
  p->events_count = static_cast<pb_size_t>(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const m::AccessEvent& e = events[i];
    kassa_link_v1_AccessEvent& out = p->events[i];
    std::memcpy(out.customer_id, e.customer.bytes.data(), sizeof(out.customer_id));
    out.action = static_cast<kassa_link_v1_AccessAction>(e.action);
    out.at_ms = e.at_ms;
    if (!PutString(out.operator_id, e.operator_id)) return TooLong("operator_id: longer than 32 bytes");
    out.seq = e.seq;
  }
  return EncodeMessage(kassa_link_v1_AccessEvents_fields, p.get());
}

Result<std::vector<m::AccessEvent>> DecodeAccessEvents(ByteView bytes) {
  auto p = Zeroed<kassa_link_v1_AccessEvents>();
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_AccessEvents_fields, p.get()));
  std::vector<m::AccessEvent> events;
  events.reserve(p->events_count);
  for (pb_size_t i = 0; i < p->events_count; ++i) {
    const kassa_link_v1_AccessEvent& in = p->events[i];
    const auto action = m::AccessActionFromWire(static_cast<std::uint32_t>(EnumNumber(in.action)));
    if (!action) return Bad("action: unknown access action");
    m::AccessEvent e;
    std::memcpy(e.customer.bytes.data(), in.customer_id, sizeof(in.customer_id));
    e.action = *action;
    e.at_ms = in.at_ms;
    e.operator_id = GetString(in.operator_id);
    if (e.operator_id.empty()) return Bad("operator_id: empty");
    e.seq = in.seq;
    events.push_back(std::move(e));
  }
  return events;
}

Result<Bytes> EncodeAccessEventsAck(std::uint64_t through_seq) {
  kassa_link_v1_AccessEventsAck p = kassa_link_v1_AccessEventsAck_init_zero;
  p.through_seq = through_seq;
  return EncodeMessage(kassa_link_v1_AccessEventsAck_fields, &p);
}

Result<std::uint64_t> DecodeAccessEventsAck(ByteView bytes) {
  kassa_link_v1_AccessEventsAck p = kassa_link_v1_AccessEventsAck_init_zero;
  KASSA_TRY(DecodeMessage(bytes, kassa_link_v1_AccessEventsAck_fields, &p));
  return std::uint64_t{p.through_seq};
}

link::ControlPayloads LinkControlPayloads() {
  return link::ControlPayloads{&EncodeHeartbeat, &DecodeHeartbeat, &EncodeLinkError};
}

}  // namespace kassa::proto_codec
