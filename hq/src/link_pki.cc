#include "kassa/hq/link_pki.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"
#include "kassa/base/private_file.h"

namespace kassa::hq {
namespace {

constexpr std::int64_t kDaySeconds = 24 * 3600;

std::string PkiDir(const std::string& data_dir) { return data_dir + "/pki"; }

Result<std::string> ReadPublicFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "pki: no chain CA here (run kassa-hq pki init)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    KASSA_LOG(kError) << "pki: cannot create " << path << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "file: a directory cannot be created (see log)");
  }
  return Status::Ok();
}

tls::Validity ValidFor(std::int64_t now_ms, int days) {
  const std::int64_t now_s = now_ms / 1000;
  // An hour back: a terminal whose clock runs a little slow still accepts it.
  return {now_s - 3600, now_s + std::int64_t{days} * kDaySeconds};
}

}  // namespace

tls::LinkCredentials HeadquartersCredentials(const std::string& data_dir) {
  const std::string dir = PkiDir(data_dir);
  return {dir + "/ca.crt", dir + "/hq.crt", dir + "/hq.key"};
}

bool HasLinkPki(const std::string& data_dir) {
  struct stat st {};
  return ::stat((PkiDir(data_dir) + "/ca.crt").c_str(), &st) == 0;
}

Status InitLinkPki(const std::string& data_dir, const std::string& chain_name, const std::vector<std::string>& hosts,
                   int ca_days, int hq_days, std::int64_t now_ms) {
  if (HasLinkPki(data_dir)) return Status(StatusCode::kAlreadyExists, "pki: this data directory has a chain CA");
  KASSA_TRY_ASSIGN(const tls::IssuedCertificate ca, tls::CreateChainCa(chain_name, ValidFor(now_ms, ca_days)));
  KASSA_TRY_ASSIGN(const tls::IssuedCertificate hq, tls::IssueHeadquartersCertificate(
                                                        ca.certificate_pem, ca.key_pem, hosts, ValidFor(now_ms, hq_days)));
  const std::string dir = PkiDir(data_dir);
  KASSA_TRY(MakeDirectory(dir));
  const tls::LinkCredentials files = HeadquartersCredentials(data_dir);
  // The CA certificate last: HasLinkPki looks for it.
  KASSA_TRY(WriteFileAtomically(dir + "/ca.key", ca.key_pem, 0600));
  KASSA_TRY(WriteFileAtomically(files.key_file, hq.key_pem, 0600));
  KASSA_TRY(WriteFileAtomically(files.certificate_file, hq.certificate_pem, 0644));
  return WriteFileAtomically(files.ca_file, ca.certificate_pem, 0644);
}

Result<tls::IssuedCertificate> IssueTerminalBundle(const std::string& data_dir, storage::ChainStore& store,
                                                   const std::string& terminal_id, const std::string& store_id,
                                                   int days, const std::string& out_dir, std::int64_t now_ms) {
  const std::string dir = PkiDir(data_dir);
  KASSA_TRY_ASSIGN(const std::string ca_pem, ReadPublicFile(dir + "/ca.crt"));
  auto ca_key = ReadPrivateFile(dir + "/ca.key", 64 * 1024);
  if (!ca_key.ok()) {
    KASSA_LOG(kError) << "pki: the CA key " << dir << "/ca.key: " << ca_key.status().detail();
    return Status(StatusCode::kFailedPrecondition, "pki: the CA key cannot be used (see log)");
  }
  KASSA_TRY_ASSIGN(tls::IssuedCertificate issued,
                   tls::IssueTerminalCertificate(ca_pem, *ca_key, terminal_id, store_id, ValidFor(now_ms, days)));
  KASSA_TRY(MakeDirectory(out_dir));
  KASSA_TRY(WriteFileAtomically(out_dir + "/" + tls::kBundleKey, issued.key_pem, 0600));
  KASSA_TRY(WriteFileAtomically(out_dir + "/" + tls::kBundleCa, ca_pem, 0644));
  // The certificate last: kassad reloads the bundle when it changes.
  KASSA_TRY(WriteFileAtomically(out_dir + "/" + tls::kBundleCertificate, issued.certificate_pem, 0644));
  KASSA_TRY(store.Transact([&](storage::ChainTxn& txn) {
    return txn.AppendAudit(now_ms, "kassa-hq pki",
                           "issued link certificate " + issued.serial_hex + " to terminal " + terminal_id +
                               " of store " + store_id + " for " + std::to_string(days) + " days");
  }));
  return issued;
}

Result<std::string> RevokeLinkCertificate(storage::ChainStore& store, std::string_view serial, std::int64_t now_ms) {
  KASSA_TRY_ASSIGN(std::string normalized, tls::NormalizeSerial(serial));
  KASSA_TRY(store.Transact([&](storage::ChainTxn& txn) {
    KASSA_TRY(txn.RevokeCertificate(normalized, now_ms));
    return txn.AppendAudit(now_ms, "kassa-hq pki", "revoked link certificate " + normalized);
  }));
  return normalized;
}

}  // namespace kassa::hq
