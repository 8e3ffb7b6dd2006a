#pragma once

// Headquarters' side of the link's PKI (tls/pki.h), on disk and in the
// chain store:
//   DATA/pki/ca.crt, ca.key   the chain CA (the key 0600; it never leaves)
//   DATA/pki/hq.crt, hq.key   the link listener's certificate
// `kassa-hq pki init` makes them once; `pki issue` writes a terminal's
// bundle (link_tls.h's kBundle* files) into a directory for its kassad;
// `pki revoke` records a serial as revoked in the chain store, which the
// link server checks on every connection. Each step is audited.
//
// Threading: any thread; one command at a time per data directory.

#include <cstdint>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/storage/chain_store.h"
#include "kassa/tls/link_tls.h"
#include "kassa/tls/pki.h"

namespace kassa::hq {

// The listener's credentials in `data_dir`.
tls::LinkCredentials HeadquartersCredentials(const std::string& data_dir);
// Whether `pki init` ran for `data_dir`.
bool HasLinkPki(const std::string& data_dir);

// Makes the chain CA (valid `ca_days`) and the listener's certificate for
// `hosts` (valid `hq_days`). Returns: kOk; kAlreadyExists "pki: ..." when a
// CA exists; tls::CreateChainCa's and IssueHeadquartersCertificate's
// errors; kUnavailable "file: ..." when a file cannot be written.
Status InitLinkPki(const std::string& data_dir, const std::string& chain_name, const std::vector<std::string>& hosts,
                   int ca_days, int hq_days, std::int64_t now_ms);

// Issues a certificate for `terminal_id` of `store_id` valid `days`, and
// writes the bundle into `out_dir` (created 0700 when missing; the key
// 0600), audited in `store`. Returns: kOk with the certificate; kNotFound
// "pki: ..." without `pki init`; tls::IssueTerminalCertificate's errors;
// kUnavailable "file: ..."; a storage failure.
Result<tls::IssuedCertificate> IssueTerminalBundle(const std::string& data_dir, storage::ChainStore& store,
                                                   const std::string& terminal_id, const std::string& store_id,
                                                   int days, const std::string& out_dir, std::int64_t now_ms);

// Revokes `serial` (any form tls::NormalizeSerial takes), audited. Returns:
// kOk with the normalized serial; kInvalidArgument "serial: ..."; a
// storage failure.
Result<std::string> RevokeLinkCertificate(storage::ChainStore& store, std::string_view serial, std::int64_t now_ms);

}  // namespace kassa::hq
