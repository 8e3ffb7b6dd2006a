#pragma once

// Wire form of the link's messages (proto/kassa/link/v1/link.proto). The
// payload of one frame each; the frame itself is kassa::link's.
//
// Decoding is for untrusted input: every message decodes into statically
// bounded structs. Batches, distributions and search replies are walked one
// element at a time, and refuse more elements than their limit
// (model/limits.h) before decoding them.
//
// Every Decode* returns kDataLoss with a reason ("operations: more than 64
// in one batch", nanopb's own message, an unknown enum value) on bad bytes.

#include <span>
#include <vector>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/model/access_event.h"
#include "kassa/model/operation.h"
#include "kassa/link/frame_connection.h"
#include "kassa/model/sync.h"

namespace kassa::proto_codec {

Result<Bytes> EncodeHello(const model::Hello& hello);
Result<model::Hello> DecodeHello(ByteView bytes);

Result<Bytes> EncodeWelcome(const model::Welcome& welcome);
Result<model::Welcome> DecodeWelcome(ByteView bytes);
// WipeDone: the time of the wipe order carried out.
Result<Bytes> EncodeWipeDone(std::int64_t ordered_at_ms);
Result<std::int64_t> DecodeWipeDone(ByteView bytes);

// `reason` is cut to model::kMaxReasonBytes.
Result<Bytes> EncodeLinkError(std::string_view reason);
Result<std::string> DecodeLinkError(ByteView bytes);

// Appends one operation to an upload batch being built: the batch's bytes are
// the concatenation of its elements, so a sender can stop at a size limit.
// `sender` is the terminal id of the link's hello: fields equal to what the
// receiver knows from it, or can derive within the operation, are left out
// (Operation.implied in operation.proto) and filled in again on decoding.
Status AppendUploadOperation(const model::Operation& op, std::string_view sender, Bytes& batch);
Result<std::vector<model::Operation>> DecodeUploadBatch(ByteView bytes, std::string_view sender);

Result<Bytes> EncodeUploadAcks(std::span<const model::OperationAck> acks);
Result<std::vector<model::OperationAck>> DecodeUploadAcks(ByteView bytes);

Result<Bytes> EncodeRealtimeRequest(const model::RealtimeRequest& request);
Result<model::RealtimeRequest> DecodeRealtimeRequest(ByteView bytes);
Result<Bytes> EncodeRealtimeReply(const model::RealtimeReply& reply);
Result<model::RealtimeReply> DecodeRealtimeReply(ByteView bytes);

// Like AppendUploadOperation, for a distribution frame.
Status AppendDistributionChange(const model::Change& change, Bytes& distribution);
Result<std::vector<model::Change>> DecodeDistribution(ByteView bytes);

Result<Bytes> EncodeDistributionAck(std::uint64_t cursor);
Result<std::uint64_t> DecodeDistributionAck(ByteView bytes);

Result<Bytes> EncodeSearchRequest(const model::SearchRequest& request);
Result<model::SearchRequest> DecodeSearchRequest(ByteView bytes);
Result<Bytes> EncodeSearchReply(const model::SearchReply& reply);
Result<model::SearchReply> DecodeSearchReply(ByteView bytes);

// Access events (at most model::kMaxAccessEvents a frame); each keeps its
// customer, action, time, operator and queue sequence; the terminal is the
// connection's. Decoding refuses an unknown action and an empty operator.
Result<Bytes> EncodeAccessEvents(std::span<const model::AccessEvent> events);
Result<std::vector<model::AccessEvent>> DecodeAccessEvents(ByteView bytes);
Result<Bytes> EncodeAccessEventsAck(std::uint64_t through_seq);
Result<std::uint64_t> DecodeAccessEventsAck(ByteView bytes);

Result<Bytes> EncodeHeartbeat(std::int64_t sent_at_ms);
Result<std::int64_t> DecodeHeartbeat(ByteView bytes);

// The heartbeat and error codecs above, for link::FrameConnection.
link::ControlPayloads LinkControlPayloads();

}  // namespace kassa::proto_codec
