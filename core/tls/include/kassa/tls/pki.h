#pragma once

// The chain's own small PKI for the link, on OpenSSL's libcrypto:
//   - one chain CA (an EC P-256 key and a self-signed certificate), made
//     once at headquarters (`kassa-hq pki init`) and kept there;
//   - a certificate for headquarters' link listener, naming the host names
//     and addresses terminals dial (subjectAltName) with extended key usage
//     serverAuth only;
//   - one certificate per terminal, subject CN = terminal id and OU = store
//     id, with extended key usage clientAuth only, so that a stolen
//     terminal's key can never pose as headquarters to other terminals.
// Every key is new, every serial 128 random bits. What headquarters trusts
// of a terminal is read back from its verified certificate (PeerIdentity),
// never from what the terminal says.
//
// Why by hand: OpenSSL issues certificates only through its API or its
// command-line tool; this file is that API called once per certificate.
//
// Threading: safe from any thread (no shared state).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"

struct x509_st;

namespace kassa::tls {

// A PEM certificate with its PEM private key (PKCS#8, unencrypted: it is
// written 0600) and its serial number in upper-case hex.
struct IssuedCertificate {
  std::string certificate_pem;
  std::string key_pem;
  std::string serial_hex;
};

// Validity in Unix seconds.
struct Validity {
  std::int64_t not_before_s = 0;
  std::int64_t not_after_s = 0;
};

// Whether `text` is an IPv4 or IPv6 address (not a host name).
bool IsIpAddress(const std::string& text);

// Terminal ids and store ids go into certificates as they are: 1 to 64 of
// A-Z a-z 0-9 . _ -.
bool IsCertificateName(std::string_view s);

// Returns: kOk; kInvalidArgument "chain: ..." for a name that is not
// IsCertificateName; kInternal "pki: ..." when OpenSSL fails (logged).
Result<IssuedCertificate> CreateChainCa(std::string_view chain_name, Validity validity);

// A terminal's certificate, signed by the CA. Returns: kOk;
// kInvalidArgument "terminal: ..." / "store: ..." for names that are not
// IsCertificateName; kInvalidArgument "ca: ..." for an unreadable CA
// certificate or key; kInternal "pki: ..." when OpenSSL fails.
Result<IssuedCertificate> IssueTerminalCertificate(std::string_view ca_certificate_pem, std::string_view ca_key_pem,
                                                   std::string_view terminal_id, std::string_view store_id,
                                                   Validity validity);

// Headquarters' link certificate naming `hosts` (DNS names or IP
// addresses; the first is also the CN). Returns as above, with
// kInvalidArgument "hq_name: ..." for an empty list or a name that is
// neither a host name nor an address.
Result<IssuedCertificate> IssueHeadquartersCertificate(std::string_view ca_certificate_pem,
                                                       std::string_view ca_key_pem,
                                                       const std::vector<std::string>& hosts, Validity validity);

// What a verified terminal certificate says.
struct PeerIdentity {
  std::string terminal_id;   // subject CN
  std::string store_id;      // subject OU
  std::string serial_hex;    // upper-case hex, as IssuedCertificate
  std::string sha256_hex;    // fingerprint of the DER certificate, lower-case
  std::int64_t not_after_s = 0;
};

// Returns: kOk; kPermissionDenied "certificate: ..." when it is not a
// terminal certificate (no CN or OU, or names that are not
// IsCertificateName).
Result<PeerIdentity> TerminalIdentityOf(x509_st* certificate);
// The same of a PEM certificate; kInvalidArgument "certificate: not a PEM
// certificate" when it does not parse.
Result<PeerIdentity> TerminalIdentityOfPem(std::string_view certificate_pem);

// Normalizes a serial given by a person ("0a:1B..", "0A1B..") to
// IssuedCertificate's form. Returns: kOk; kInvalidArgument "serial: ...".
Result<std::string> NormalizeSerial(std::string_view serial);

}  // namespace kassa::tls
