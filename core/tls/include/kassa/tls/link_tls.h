#pragma once

// TLS contexts of the link (Boost.Asio's ssl layer over OpenSSL's libssl),
// and of the daemons' HTTPS metrics listener. The link's are the same on
// both ends: TLS 1.2 at least (1.3 preferred by OpenSSL),
// renegotiation off, peer certificates verified against the chain CA only
// (never the system's trust store).
//   - Headquarters: a client certificate is required; OpenSSL checks its
//     chain to the CA, its validity dates and its clientAuth usage.
//   - A terminal: headquarters' certificate must chain to the pinned chain
//     CA, carry serverAuth, and name `server_name` (a host name or an IP
//     address, in its subjectAltName).
// Private keys are read only from files no one else may read (mode 0600 or
// stricter; refused otherwise, like the device key).
//
// Threading: contexts are built on any thread and then only read.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "kassa/base/status.h"

namespace kassa::tls {

// One end's files, PEM.
struct LinkCredentials {
  std::string ca_file;           // the chain CA's certificate
  std::string certificate_file;  // this end's certificate
  std::string key_file;          // this end's private key (mode 0600)
};

using Context = boost::asio::ssl::context;

// A terminal's bundle, as `kassa-hq pki issue` writes it into one
// directory and kassad's --link-bundle takes it.
inline constexpr const char* kBundleCa = "ca.crt";
inline constexpr const char* kBundleCertificate = "terminal.crt";
inline constexpr const char* kBundleKey = "terminal.key";
LinkCredentials BundleCredentials(const std::string& directory);

// Returns: kOk; kInvalidArgument "link_tls: ..." naming the file that is
// missing, unreadable, readable by others, or does not parse, or a key that
// is not the certificate's (the path in the log).
Result<std::shared_ptr<Context>> MakeServerContext(const LinkCredentials& credentials);
// The terminal's side: headquarters' certificate must be of the chain CA and
// name `server_name`; one that is not valid yet by this machine's clock is
// accepted with a warning (a terminal's clock running behind), an expired
// one never.
Result<std::shared_ptr<Context>> MakeClientContext(const LinkCredentials& credentials, const std::string& server_name);

// An HTTPS listener's context (the metrics listener beyond loopback): the
// same floor, this server's certificate and key (0600), no client
// certificate asked for. Returns as MakeServerContext.
Result<std::shared_ptr<Context>> MakeHttpsServerContext(const std::string& certificate_file, const std::string& key_file);

// A short text for a failed handshake's error (OpenSSL's verification
// result when there is one), for the log.
std::string DescribeHandshakeError(const boost::system::error_code& ec, long verify_result);

}  // namespace kassa::tls
