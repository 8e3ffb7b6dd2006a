#include "terminal_wipe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"
#include "kassa/crypto/sha256.h"
#include "kassa/tls/link_tls.h"

namespace kassa::service {
namespace {

constexpr std::string_view kMarkerHeader = "kassa terminal wiped v1\n";

std::string MarkerPath(const std::string& key_file) { return key_file + ".wiped"; }

std::string Hex(const crypto::Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : d) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// Overwrites `path` with zeros over its whole length, syncs it and removes
// it. A file that is not there is done already.
Status Shred(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    KASSA_LOG(kError) << "wipe: cannot open " << path << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "wipe: a key file cannot be opened (see log)");
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  const std::vector<char> zeros(64 * 1024, 0);
  for (off_t at = 0; ok && at < st.st_size;) {
    const std::size_t n = static_cast<std::size_t>(std::min<off_t>(st.st_size - at, static_cast<off_t>(zeros.size())));
    const ssize_t written = ::pwrite(fd, zeros.data(), n, at);
    if (written <= 0) {
      ok = false;
      break;
    }
    at += written;
  }
  ok = ok && ::fdatasync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    KASSA_LOG(kError) << "wipe: cannot overwrite " << path << ": " << std::strerror(saved_errno);
    return Status(StatusCode::kUnavailable, "wipe: a key file cannot be overwritten (see log)");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    KASSA_LOG(kError) << "wipe: cannot remove " << path << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "wipe: a key file cannot be removed (see log)");
  }
  return Status::Ok();
}

Status Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    KASSA_LOG(kError) << "wipe: cannot remove " << path << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "wipe: a data file cannot be removed (see log)");
  }
  return Status::Ok();
}

}  // namespace

std::string BundleCertificateSha256(const std::string& bundle_dir) {
  if (bundle_dir.empty()) return "";
  std::ifstream in(tls::BundleCredentials(bundle_dir).certificate_file, std::ios::binary);
  if (!in) return "";
  std::ostringstream pem;
  pem << in.rdbuf();
  const std::string text = pem.str();
  if (text.empty()) return "";
  return Hex(crypto::Sha256Of(AsBytes(text)));
}

Result<std::optional<WipeMarker>> ReadWipeMarker(const std::string& key_file) {
  std::ifstream in(MarkerPath(key_file), std::ios::binary);
  if (!in) {
    struct stat st {};
    if (::lstat(MarkerPath(key_file).c_str(), &st) != 0 && errno == ENOENT) return std::optional<WipeMarker>();
    return Status(StatusCode::kDataLoss, "wipe_marker: the wipe marker beside the key file cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  if (!s.starts_with(kMarkerHeader)) {
    return Status(StatusCode::kDataLoss, "wipe_marker: the wipe marker beside the key file is not one");
  }
  WipeMarker m;
  std::istringstream lines(s.substr(kMarkerHeader.size()));
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name == "ordered_at_ms") m.ordered_ms = std::atoll(value.c_str());
    if (name == "wiped_at_ms") m.wiped_ms = std::atoll(value.c_str());
    if (name == "certificate_sha256") m.certificate_sha256 = value;
  }
  return std::optional<WipeMarker>(m);
}

Status WipeTerminal(const WipePaths& paths, const WipeMarker& marker) {
  std::ostringstream text;
  text << kMarkerHeader << "ordered_at_ms=" << marker.ordered_ms << "\nwiped_at_ms=" << marker.wiped_ms
       << "\ncertificate_sha256=" << marker.certificate_sha256 << "\n";
  if (Status s = WriteFileAtomically(MarkerPath(paths.key_file), text.str(), 0600); !s.ok()) {
    KASSA_LOG(kError) << "wipe: cannot write " << MarkerPath(paths.key_file) << ": " << s.detail();
    return Status(StatusCode::kUnavailable, "wipe: the wipe marker cannot be written (see log)");
  }
  return FinishWipe(paths);
}

Status FinishWipe(const WipePaths& paths) {
  KASSA_TRY(Shred(paths.key_slots_file));
  KASSA_TRY(Shred(paths.key_file));
  for (const char* name : {"data.mdb", "lock.mdb"}) KASSA_TRY(Remove(paths.data_dir + "/" + name));
  return Status::Ok();
}

Status ClearWipeMarker(const std::string& key_file) { return Remove(MarkerPath(key_file)); }

}  // namespace kassa::service
