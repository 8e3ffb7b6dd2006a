#include "kassa/tls/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>
#include <memory>

#include "kassa/base/log.h"

namespace kassa::tls {
namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Free<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION, X509_EXTENSION_free>>;

Status Failed(const char* step) {
  KASSA_LOG(kError) << "pki: OpenSSL failed to " << step;
  return Status(StatusCode::kInternal, "pki: OpenSSL failed to make a certificate (see log)");
}

bool IsHostName(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  for (const char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return true;
}

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256")); }

Result<std::string> PemOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return Failed("write a certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<std::string> PemOf(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Failed("write a key");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

CertPtr ReadCertificate(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

KeyPtr ReadKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return KeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string SerialOf(const X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  // BN_bn2hex prints whole bytes; NormalizeSerial's form has no leading zero.
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

bool AddName(X509_NAME* name, const char* field, std::string_view value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Where each kind of certificate differs.
struct Profile {
  std::vector<std::pair<const char*, std::string>> subject;
  std::vector<std::pair<int, std::string>> extensions;
};

// A new key and a certificate of `profile` for it, signed by `issuer_key`
// (the new key itself for the CA) under `issuer` (nullptr: self-signed).
Result<IssuedCertificate> Issue(const Profile& profile, X509* issuer, EVP_PKEY* issuer_key, Validity validity) {
  KeyPtr key = NewKey();
  CertPtr cert(X509_new());
  if (!key || !cert) return Failed("make a key");
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Failed("draw a serial number");
  }
  if (X509_set_version(cert.get(), 2) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(validity.not_before_s)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(validity.not_after_s)) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return Failed("fill a certificate");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const auto& [field, value] : profile.subject) {
    if (!AddName(subject, field, value)) return Failed("name a certificate");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1) return Failed("name an issuer");
  for (const auto& [nid, value] : profile.extensions) {
    if (!AddExtension(cert.get(), signer, nid, value)) return Failed("add an extension");
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key.get(), EVP_sha256()) == 0) {
    return Failed("sign a certificate");
  }
  IssuedCertificate out;
  KASSA_TRY_ASSIGN(out.certificate_pem, PemOf(cert.get()));
  KASSA_TRY_ASSIGN(out.key_pem, PemOf(key.get()));
  out.serial_hex = SerialOf(cert.get());
  return out;
}

std::vector<std::pair<int, std::string>> LeafExtensions(const char* usage) {
  return {{NID_basic_constraints, "critical,CA:FALSE"},
          {NID_key_usage, "critical,digitalSignature"},
          {NID_ext_key_usage, usage},
          {NID_subject_key_identifier, "hash"},
          {NID_authority_key_identifier, "keyid:always"}};
}

struct Ca {
  CertPtr cert;
  KeyPtr key;
};

Result<Ca> ReadCa(std::string_view cert_pem, std::string_view key_pem) {
  Ca ca{ReadCertificate(cert_pem), ReadKey(key_pem)};
  if (!ca.cert) return Status(StatusCode::kInvalidArgument, "ca: the CA certificate does not parse");
  if (!ca.key) return Status(StatusCode::kInvalidArgument, "ca: the CA key does not parse");
  if (X509_check_private_key(ca.cert.get(), ca.key.get()) != 1) {
    return Status(StatusCode::kInvalidArgument, "ca: the CA key does not belong to the CA certificate");
  }
  return ca;
}

// The one entry `nid` of `name`, as UTF-8; empty when absent or repeated.
std::string OnlyEntry(const X509_NAME* name, int nid) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0 || X509_NAME_get_index_by_NID(name, nid, at) >= 0) return "";
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool IsCertificateName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Result<IssuedCertificate> CreateChainCa(std::string_view chain_name, Validity validity) {
  if (!IsCertificateName(chain_name)) {
    return Status(StatusCode::kInvalidArgument, "chain: 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  Profile profile;
  profile.subject = {{"O", std::string(chain_name)}, {"CN", std::string(chain_name) + " kassa link CA"}};
  profile.extensions = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                        {NID_subject_key_identifier, "hash"}};
  return Issue(profile, nullptr, nullptr, validity);
}

Result<IssuedCertificate> IssueTerminalCertificate(std::string_view ca_certificate_pem, std::string_view ca_key_pem,
                                                   std::string_view terminal_id, std::string_view store_id,
                                                   Validity validity) {
  if (!IsCertificateName(terminal_id)) {
    return Status(StatusCode::kInvalidArgument, "terminal: 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  if (!IsCertificateName(store_id)) return Status(StatusCode::kInvalidArgument, "store: 1 to 64 of A-Z a-z 0-9 . _ -");
  KASSA_TRY_ASSIGN(Ca ca, ReadCa(ca_certificate_pem, ca_key_pem));
  Profile profile;
  profile.subject = {{"OU", std::string(store_id)}, {"CN", std::string(terminal_id)}};
  profile.extensions = LeafExtensions("clientAuth");
  return Issue(profile, ca.cert.get(), ca.key.get(), validity);
}

Result<IssuedCertificate> IssueHeadquartersCertificate(std::string_view ca_certificate_pem,
                                                       std::string_view ca_key_pem,
                                                       const std::vector<std::string>& hosts, Validity validity) {
  if (hosts.empty()) return Status(StatusCode::kInvalidArgument, "hq_name: at least one host name or address");
  std::string alt_names;
  for (const auto& host : hosts) {
    const bool ip = IsIpAddress(host);
    if (!ip && !IsHostName(host)) {
      KASSA_LOG(kError) << "pki: \"" << ForLog(host) << "\" is neither a host name nor an IP address";
      return Status(StatusCode::kInvalidArgument, "hq_name: neither a host name nor an IP address");
    }
    alt_names += (alt_names.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + host;
  }
  KASSA_TRY_ASSIGN(Ca ca, ReadCa(ca_certificate_pem, ca_key_pem));
  Profile profile;
  profile.subject = {{"CN", hosts.front()}};
  profile.extensions = LeafExtensions("serverAuth");
  profile.extensions.emplace_back(NID_subject_alt_name, alt_names);
  return Issue(profile, ca.cert.get(), ca.key.get(), validity);
}

Result<PeerIdentity> TerminalIdentityOf(x509_st* certificate) {
  if (certificate == nullptr) return Status(StatusCode::kPermissionDenied, "certificate: none presented");
  const X509_NAME* subject = X509_get_subject_name(certificate);
  PeerIdentity id;
  id.terminal_id = OnlyEntry(subject, NID_commonName);
  id.store_id = OnlyEntry(subject, NID_organizationalUnitName);
  if (!IsCertificateName(id.terminal_id) || !IsCertificateName(id.store_id)) {
    return Status(StatusCode::kPermissionDenied, "certificate: not a terminal certificate (CN terminal, OU store)");
  }
  id.serial_hex = SerialOf(certificate);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(certificate, EVP_sha256(), md, &n) != 1) return Failed("hash a certificate");
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n; ++i) {
    id.sha256_hex += kHex[md[i] >> 4];
    id.sha256_hex += kHex[md[i] & 15];
  }
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &tm) == 1) id.not_after_s = timegm(&tm);
  return id;
}

Result<PeerIdentity> TerminalIdentityOfPem(std::string_view certificate_pem) {
  CertPtr cert = ReadCertificate(certificate_pem);
  if (!cert) return Status(StatusCode::kInvalidArgument, "certificate: not a PEM certificate");
  return TerminalIdentityOf(cert.get());
}

Result<std::string> NormalizeSerial(std::string_view serial) {
  std::string out;
  for (const char c : serial) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return Status(StatusCode::kInvalidArgument, "serial: hexadecimal digits (colons allowed)");
    }
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const auto first = out.find_first_not_of('0');
  out = first == std::string::npos ? "0" : out.substr(first);
  if (out.size() > 40) return Status(StatusCode::kInvalidArgument, "serial: longer than 20 bytes");
  return out;
}

}  // namespace kassa::tls
