#pragma once

// A direct reader of the Customer message (proto/kassa/link/v1/customer.proto)
// from its protobuf wire bytes into model::Customer, for the hot path: every
// search result and every stored customer read goes through it.
//
// nanopb decodes into a ~10 KB statically bounded struct that it first sets
// to defaults, then copies out; this reader walks the bytes once and builds
// the strings directly, about ten times fewer instructions per customer.
// It accepts exactly what the nanopb path accepts (the bounds of
// customer.options, enum ranges, fixed-length id, wire types, unknown fields
// skipped, the last of a repeated scalar winning, a string ending at its
// first NUL as nanopb's char arrays do, a zero tag refused); tests/proto checks the two agree on
// valid, mutated and random bytes. Private to kassa::proto_codec.

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/model/customer.h"

namespace kassa::proto_codec::internal {

// Reads `bytes` into `c`, which REQUIRES: default-constructed (repeated
// fields are appended to). Decoded in place: a search's twenty customers
// are not moved from one object into the next. Returns: kOk; kDataLoss
// naming what is wrong (`c` then holds part of the record).
Status ReadCustomerWire(ByteView bytes, model::Customer& c);

}  // namespace kassa::proto_codec::internal
