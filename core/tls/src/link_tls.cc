#include "kassa/tls/link_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>


#include "kassa/base/log.h"
#include "kassa/base/private_file.h"
#include "kassa/tls/pki.h"

namespace kassa::tls {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxKeyBytes = 64 * 1024;

Status Refused(const std::string& path, const char* what, const char* detail) {
  KASSA_LOG(kError) << "link TLS: " << what << " " << path << ": " << detail;
  return Status(StatusCode::kInvalidArgument, "link_tls: a certificate or key file cannot be used (see log)");
}

// Every context's floor: TLS 1.2 at least, no renegotiation.
Result<std::shared_ptr<Context>> FlooredContext(Context::method method) {
  auto ctx = std::make_shared<Context>(method);
  ctx->set_options(Context::default_workarounds | Context::no_sslv2 | Context::no_sslv3 | Context::no_tlsv1 |
                   Context::no_tlsv1_1 | Context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Status(StatusCode::kInternal, "link_tls: OpenSSL refused TLS 1.2 as the floor");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

// This end's certificate (with its chain) and private key, which must match.
Status UseOwnIdentity(Context& ctx, const std::string& certificate_file, const std::string& key_file) {
  error_code ec;
  ctx.use_certificate_chain_file(certificate_file, ec);
  if (ec) return Refused(certificate_file, "the certificate", ec.message().c_str());
  auto key = ReadPrivateFile(key_file, kMaxKeyBytes);
  if (!key.ok()) return Refused(key_file, "the private key", key.status().detail());
  ctx.use_private_key(asio::buffer(*key), Context::pem, ec);
  OPENSSL_cleanse(key->data(), key->size());
  if (ec) return Refused(key_file, "the private key", ec.message().c_str());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    return Refused(key_file, "the private key", "it is not the key of the certificate");
  }
  return Status::Ok();
}

// The parts both ends of the link share: protocol floor, CA, own certificate
// and key, the peer's certificate required.
Result<std::shared_ptr<Context>> BaseContext(Context::method method, const LinkCredentials& c) {
  KASSA_TRY_ASSIGN(auto ctx, FlooredContext(method));
  SSL_CTX* native = ctx->native_handle();
  error_code ec;
  ctx->load_verify_file(c.ca_file, ec);
  if (ec) return Refused(c.ca_file, "the chain CA", ec.message().c_str());
  KASSA_TRY(UseOwnIdentity(*ctx, c.certificate_file, c.key_file));
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  SSL_CTX_set_verify_depth(native, 2);
  return ctx;
}

// The terminal's check of headquarters' certificates. A terminal's clock may
// run behind (a flat RTC battery, no NTP for weeks): a certificate headquarters
// was given today looks "not yet valid" to it, and the link would stay down
// until someone set the clock. That error alone is let through, with a
// warning naming the cause; every other one (expired, another CA, a wrong
// name, a broken signature) still refuses the connection. Accepting it costs
// nothing: only the chain CA issues these certificates, always valid from
// the moment it signs them.
int ToleratingASlowClock(int preverified, X509_STORE_CTX* store) {
  if (preverified == 1) return 1;
  if (X509_STORE_CTX_get_error(store) != X509_V_ERR_CERT_NOT_YET_VALID) return 0;
  KASSA_LOG_THROTTLED("link TLS: headquarters' certificate is not valid yet by this terminal's clock; "
                      "the clock is behind (set it right: NTP)");
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

}  // namespace

LinkCredentials BundleCredentials(const std::string& directory) {
  return {directory + "/" + kBundleCa, directory + "/" + kBundleCertificate, directory + "/" + kBundleKey};
}

Result<std::shared_ptr<Context>> MakeServerContext(const LinkCredentials& credentials) {
  KASSA_TRY_ASSIGN(auto ctx, BaseContext(Context::tls_server, credentials));
  // Tell clients which CA's certificates to present.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(credentials.ca_file.c_str()); names != nullptr) {
    SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
  }
  // No session resumption: every connection shows its certificate, so a
  // revocation takes effect on the next connection.
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx->native_handle(), 0);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_TICKET);
  return ctx;
}

Result<std::shared_ptr<Context>> MakeClientContext(const LinkCredentials& credentials, const std::string& server_name) {
  if (server_name.empty()) return Status(StatusCode::kInvalidArgument, "link_tls: headquarters' name is empty");
  KASSA_TRY_ASSIGN(auto ctx, BaseContext(Context::tls_client, credentials));
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx->native_handle());
  const int named = IsIpAddress(server_name) ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                                              : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0);
  if (named != 1) return Status(StatusCode::kInvalidArgument, "link_tls: headquarters' name cannot be checked");
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_CTX_set_verify(ctx->native_handle(), SSL_CTX_get_verify_mode(ctx->native_handle()), &ToleratingASlowClock);
  return ctx;
}

Result<std::shared_ptr<Context>> MakeHttpsServerContext(const std::string& certificate_file, const std::string& key_file) {
  KASSA_TRY_ASSIGN(auto ctx, FlooredContext(Context::tls_server));
  KASSA_TRY(UseOwnIdentity(*ctx, certificate_file, key_file));
  ctx->set_verify_mode(asio::ssl::verify_none);  // clients prove themselves with a bearer token
  return ctx;
}

std::string DescribeHandshakeError(const error_code& ec, long verify_result) {
  if (verify_result != X509_V_OK) {
    return std::string("certificate refused: ") + X509_verify_cert_error_string(verify_result);
  }
  if (ec == asio::error::operation_aborted) return "no handshake in time";
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "closed during the handshake";
  std::string what = ec.message();
  // Asio's text of OpenSSL errors ends with its internal location; keep the reason.
  if (const auto paren = what.find(" ("); paren != std::string::npos) what.resize(paren);
  return "handshake failed: " + what;
}

}  // namespace kassa::tls
