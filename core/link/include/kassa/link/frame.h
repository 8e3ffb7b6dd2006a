#pragma once

// The link's framing: every message travels in one frame.
//
//   offset  size  field
//   0       2     magic "KL"
//   2       1     type (FrameType)
//   3       1     flags, 0 (reserved)
//   4       4     payload length, big-endian, at most kMaxFramePayloadBytes
//   8       4     CRC-32C (Castagnoli) of bytes 0..7 and the payload, big-endian
//   12      n     payload: one nanopb message (proto/kassa/link/v1/link.proto)
//
// A reader checks the header before it reads or allocates the payload, so a
// length over the limit, a wrong magic or an unknown type costs nothing.

#include <array>
#include <cstdint>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::link {

enum class FrameType : std::uint8_t {
  kHello = 1,
  kWelcome = 2,
  kError = 3,
  kUploadBatch = 4,
  kUploadAcks = 5,
  kRealtimeRequest = 6,
  kRealtimeReply = 7,
  kDistribution = 8,
  kDistributionAck = 9,
  kSearchRequest = 10,
  kSearchReply = 11,
  kHeartbeat = 12,
  kWipeDone = 13,
  kErasuresAhead = 14,
  kAccessEvents = 15,
  kAccessEventsAck = 16,
};
const char* ToString(FrameType t);

inline constexpr std::size_t kFrameHeaderBytes = 12;
inline constexpr std::size_t kMaxFramePayloadBytes = 1024 * 1024;

struct FrameHeader {
  FrameType type;
  std::uint32_t length;
  std::uint32_t crc;
};

// CRC-32C of `bytes`, continuing from `crc` (0 to start).
std::uint32_t Crc32c(ByteView bytes, std::uint32_t crc = 0);

// A whole frame: header and payload. REQUIRES: payload within the limit.
Bytes EncodeFrame(FrameType type, ByteView payload);

// Checks a received header. Returns: kOk; kDataLoss "frame: ..." naming what
// is wrong (magic, flags, unknown type, length over the limit).
Result<FrameHeader> ParseFrameHeader(ByteView header);

// Checks the payload against the header's CRC. Returns: kOk; kDataLoss.
Status CheckFramePayload(ByteView header, ByteView payload, const FrameHeader& parsed);

}  // namespace kassa::link
