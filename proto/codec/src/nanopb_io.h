#pragma once

// Helpers shared by the codec's translation units (private to proto/codec):
// bounded string copies, exact-size encoding, and the model <-> nanopb
// struct mappings of the messages other messages embed.

#include <pb.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/link/v1/clienteling.pb.h"
#include "kassa/link/v1/customer.pb.h"
#include "kassa/link/v1/operation.pb.h"
#include "kassa/link/v1/store.pb.h"
#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"
#include "kassa/model/operation.h"
#include "kassa/model/store_config.h"

namespace kassa::proto_codec::internal {

// The .options bounds must equal limits.h / clienteling.h (strings carry a NUL).
#define KASSA_BOUND(member, limit) \
  static_assert(sizeof(member) == (limit) + 1, #member " disagrees with the model's limits")

constexpr Status TooLong(const char* detail) { return Status(StatusCode::kInvalidArgument, detail); }

// The number a nanopb enum field holds. nanopb stores whatever integer the
// wire carried, which may be no enumerator; loading that through the enum
// type is undefined behaviour (UBSan: invalid enum load), so the field's
// bytes are read as its underlying integer.
template <typename E>
int EnumNumber(const E& field) {
  static_assert(std::is_enum_v<E>);
  std::underlying_type_t<E> number;
  std::memcpy(&number, &field, sizeof number);
  return static_cast<int>(number);
}

template <std::size_t N>
bool PutString(char (&dst)[N], const std::string& src) {
  if (src.size() >= N || std::memchr(src.data(), '\0', src.size()) != nullptr) return false;
  std::memcpy(dst, src.data(), src.size());
  dst[src.size()] = '\0';
  return true;
}

template <std::size_t N>
std::string GetString(const char (&src)[N]) {
  return std::string(src, strnlen(src, N));
}

template <std::size_t N, std::size_t L>
Status FillStrings(const std::vector<std::string>& in, char (&out)[N][L], pb_size_t& count, Status too_long) {
  if (in.size() > N) return too_long;
  count = static_cast<pb_size_t>(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!PutString(out[i], in[i])) return too_long;
  }
  return Status::Ok();
}

template <std::size_t N, std::size_t L>
std::vector<std::string> GetStrings(const char (&in)[N][L], pb_size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (pb_size_t i = 0; i < count && i < N; ++i) out.push_back(GetString(in[i]));
  return out;
}

// Encodes `msg` of type `fields` into an exactly sized buffer.
Result<Bytes> EncodeMessage(const pb_msgdesc_t* fields, const void* msg);
// Returns: kOk; kDataLoss with nanopb's reason.
Status DecodeMessage(ByteView bytes, const pb_msgdesc_t* fields, void* msg);

Status FillCustomer(const model::Customer& c, kassa_link_v1_Customer& p);
Result<model::Customer> ReadCustomer(const kassa_link_v1_Customer& p);
// An Operation's `base` is a callback field (operation.options): FillOperation
// sets its encoder; before decoding, ExpectBase() collects its bytes into
// `bytes` (left empty when there is none), which ReadOperation then reads.
Status FillOperation(const model::Operation& op, kassa_link_v1_Operation& p);
void ExpectBase(kassa_link_v1_Operation& p, Bytes& bytes);
Result<model::Operation> ReadOperation(const kassa_link_v1_Operation& p, ByteView base);
Status FillStoreConfig(const model::StoreConfig& config, kassa_link_v1_StoreConfig& p);
Result<model::StoreConfig> ReadStoreConfig(const kassa_link_v1_StoreConfig& p);
Status FillBookEntry(const model::BookEntry& e, kassa_link_v1_BookEntry& p);
model::BookEntry ReadBookEntry(const kassa_link_v1_BookEntry& p);
Status FillTimelineEntry(const model::TimelineEntry& e, kassa_link_v1_TimelineEntry& p);
Result<model::TimelineEntry> ReadTimelineEntry(const kassa_link_v1_TimelineEntry& p);
Status FillConsentEntry(const model::ConsentEntry& e, kassa_link_v1_ConsentEntry& p);
Result<model::ConsentEntry> ReadConsentEntry(const kassa_link_v1_ConsentEntry& p);
Status FillClientelingRecord(const model::ClientelingRecord& r, kassa_link_v1_ClientelingRecord& p);
Result<model::ClientelingRecord> ReadClientelingRecord(const kassa_link_v1_ClientelingRecord& p);

}  // namespace kassa::proto_codec::internal
