// libFuzzer target: everything a peer can put on the link. The input is
// read as a stream of frames, the way FrameConnection reads a socket (header
// checks, then the payload and its checksum); every frame that passes goes to
// the decoder of its type, and then to every other decoder as well, so
// payloads of one message type are tried against all of them. Stored records
// (DecodeCustomer, ...) are decoded too: they are the same nanopb messages.
//
// Run: scripts/fuzz (the `fuzz` preset, clang).

#include <cstddef>
#include <cstdint>

#include "kassa/link/frame.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/proto_codec/link_codec.h"

namespace {

using kassa::ByteView;
namespace pc = kassa::proto_codec;

// Decodes `payload` as every message; results are dropped (the sanitizers
// and the decoders' own checks are what is tested).
void DecodeAll(ByteView payload) {
  (void)pc::DecodeHello(payload);
  (void)pc::DecodeWelcome(payload);
  (void)pc::DecodeLinkError(payload);
  (void)pc::DecodeUploadBatch(payload, "FUZZ-1");
  (void)pc::DecodeUploadAcks(payload);
  (void)pc::DecodeRealtimeRequest(payload);
  (void)pc::DecodeRealtimeReply(payload);
  (void)pc::DecodeDistribution(payload);
  (void)pc::DecodeDistributionAck(payload);
  (void)pc::DecodeSearchRequest(payload);
  (void)pc::DecodeSearchReply(payload);
  (void)pc::DecodeHeartbeat(payload);
  (void)pc::DecodeWipeDone(payload);
  (void)pc::DecodeAccessEvents(payload);
  (void)pc::DecodeAccessEventsAck(payload);
  (void)pc::DecodeCustomer(payload);
  (void)pc::DecodeOperation(payload);
  (void)pc::DecodeStoreConfig(payload);
  (void)pc::DecodeClientelingRecord(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(data, size);
  // The whole input as one payload, then as a stream of frames.
  DecodeAll(input);
  while (input.size() >= kassa::link::kFrameHeaderBytes) {
    const ByteView header = input.first(kassa::link::kFrameHeaderBytes);
    auto parsed = kassa::link::ParseFrameHeader(header);
    if (!parsed.ok()) break;
    input = input.subspan(kassa::link::kFrameHeaderBytes);
    if (parsed->length > input.size()) break;
    const ByteView payload = input.first(parsed->length);
    input = input.subspan(parsed->length);
    if (!kassa::link::CheckFramePayload(header, payload, *parsed).ok()) break;
    DecodeAll(payload);
  }
  return 0;
}
