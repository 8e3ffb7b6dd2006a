#include "kassa/link/frame.h"

namespace kassa::link {
namespace {

constexpr std::uint8_t kMagic0 = 'K';
constexpr std::uint8_t kMagic1 = 'L';

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = MakeCrcTable();

void PutBe32(std::uint32_t v, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(v >> 24);
  out[1] = static_cast<std::uint8_t>(v >> 16);
  out[2] = static_cast<std::uint8_t>(v >> 8);
  out[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t GetBe32(const std::uint8_t* in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) | in[3];
}

}  // namespace

const char* ToString(FrameType t) {
  switch (t) {
    case FrameType::kHello: return "hello";
    case FrameType::kWelcome: return "welcome";
    case FrameType::kError: return "error";
    case FrameType::kUploadBatch: return "upload_batch";
    case FrameType::kUploadAcks: return "upload_acks";
    case FrameType::kRealtimeRequest: return "realtime_request";
    case FrameType::kRealtimeReply: return "realtime_reply";
    case FrameType::kDistribution: return "distribution";
    case FrameType::kDistributionAck: return "distribution_ack";
    case FrameType::kSearchRequest: return "search_request";
    case FrameType::kSearchReply: return "search_reply";
    case FrameType::kHeartbeat: return "heartbeat";
    case FrameType::kWipeDone: return "wipe_done";
    case FrameType::kErasuresAhead: return "erasures_ahead";
    case FrameType::kAccessEvents: return "access_events";
    case FrameType::kAccessEventsAck: return "access_events_ack";
  }
  return "unknown";
}

std::uint32_t Crc32c(ByteView bytes, std::uint32_t crc) {
  crc = ~crc;
  for (const std::uint8_t b : bytes) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

Bytes EncodeFrame(FrameType type, ByteView payload) {
  Bytes frame(kFrameHeaderBytes + payload.size());
  frame[0] = kMagic0;
  frame[1] = kMagic1;
  frame[2] = static_cast<std::uint8_t>(type);
  frame[3] = 0;
  PutBe32(static_cast<std::uint32_t>(payload.size()), frame.data() + 4);
  std::copy(payload.begin(), payload.end(), frame.begin() + kFrameHeaderBytes);
  const std::uint32_t crc = Crc32c(payload, Crc32c(ByteView(frame.data(), 8)));
  PutBe32(crc, frame.data() + 8);
  return frame;
}

Result<FrameHeader> ParseFrameHeader(ByteView header) {
  if (header.size() != kFrameHeaderBytes) return Status(StatusCode::kDataLoss, "frame: short header");
  if (header[0] != kMagic0 || header[1] != kMagic1) return Status(StatusCode::kDataLoss, "frame: bad magic");
  if (header[3] != 0) return Status(StatusCode::kDataLoss, "frame: unknown flags");
  const std::uint8_t type = header[2];
  if (type < static_cast<std::uint8_t>(FrameType::kHello) || type > static_cast<std::uint8_t>(FrameType::kAccessEventsAck)) {
    return Status(StatusCode::kDataLoss, "frame: unknown type");
  }
  const std::uint32_t length = GetBe32(header.data() + 4);
  if (length > kMaxFramePayloadBytes) return Status(StatusCode::kDataLoss, "frame: length over the 1 MiB limit");
  return FrameHeader{static_cast<FrameType>(type), length, GetBe32(header.data() + 8)};
}

Status CheckFramePayload(ByteView header, ByteView payload, const FrameHeader& parsed) {
  const std::uint32_t crc = Crc32c(payload, Crc32c(header.first(8)));
  if (crc != parsed.crc) return Status(StatusCode::kDataLoss, "frame: checksum mismatch");
  return Status::Ok();
}

}  // namespace kassa::link
