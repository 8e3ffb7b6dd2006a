#pragma once

// Conversion between kassa's model types and their nanopb wire form. The only
// code that includes generated *.pb.h files; everything else speaks model
// types and bytes.
//
// Decoding is for untrusted input: it fills statically bounded structs only
// (no dynamic allocation inside nanopb), and refuses out-of-range enums.
// DecodeCustomer, on every read of a stored customer, walks the wire bytes
// directly with the same bounds (src/customer_wire_reader.h).

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"
#include "kassa/model/operation.h"
#include "kassa/model/store_config.h"

namespace kassa::proto_codec {

// Returns:
//   kOk               the encoded bytes.
//   kInvalidArgument  a field exceeds its wire bound ("field: too long for the
//                     record"); validated customers never do.
Result<Bytes> EncodeCustomer(const model::Customer& customer);
Result<Bytes> EncodeOperation(const model::Operation& operation);
Result<Bytes> EncodeStoreConfig(const model::StoreConfig& config);
Result<Bytes> EncodeClientelingRecord(const model::ClientelingRecord& record);

// Returns:
//   kOk        the decoded value.
//   kDataLoss  the bytes are not a valid message (nanopb's reason as the
//              detail), or an enum holds an unknown value.
Result<model::Customer> DecodeCustomer(ByteView bytes);
// The same into `out` (reset first), for readers of many customers: no
// copy of the 768-byte customer from a result into its place.
Status DecodeCustomerInto(ByteView bytes, model::Customer& out);
Result<model::Operation> DecodeOperation(ByteView bytes);
Result<model::StoreConfig> DecodeStoreConfig(ByteView bytes);
Result<model::ClientelingRecord> DecodeClientelingRecord(ByteView bytes);

}  // namespace kassa::proto_codec
