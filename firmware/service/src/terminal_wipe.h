#pragma once

// Wiping a terminal on headquarters' order (docs/PRIVACY.md "Lock and
// wipe"): what is destroyed, in which order, and the marker that keeps the
// terminal wiped across restarts until it is enrolled anew.
//
//   1. the marker `KEY_FILE.wiped` is written (atomically, synced): from
//      here on the terminal is wiped, whatever happens next;
//   2. the key slots file (every customer's data key) is overwritten with
//      zeros, synced and removed;
//   3. the master key file likewise;
//   4. the data directory's LMDB files are removed (ciphertext nobody can
//      open any more).
// Steps 2-4 run again at every start that finds the marker, so a wipe cut
// short by a crash or a power cut finishes. Overwriting in place destroys
// the keys on a disk that writes in place; on flash whose controller remaps
// writes, old blocks may survive until erased (the TPM-backed key store
// named in docs/PRIVACY.md is the answer there).
//
// A terminal is enrolled anew by giving it a new link certificate: a start
// whose bundle certificate differs from the one the marker names removes
// the marker and starts clean (a new key, an empty store filled by
// distribution).

#include <cstdint>
#include <optional>
#include <string>

#include "kassa/base/status.h"

namespace kassa::service {

struct WipePaths {
  std::string data_dir;
  std::string key_file;
  std::string key_slots_file;
};

struct WipeMarker {
  std::int64_t ordered_ms = 0;        // headquarters' order
  std::int64_t wiped_ms = 0;          // when this terminal carried it out
  std::string certificate_sha256;     // the link certificate it had ("" without one)
};

// The SHA-256 (hex) of the link bundle's certificate file ("" when there
// is no bundle or no certificate in it).
std::string BundleCertificateSha256(const std::string& bundle_dir);

// Returns: kOk with the marker (nullopt: not wiped); kDataLoss
// "wipe_marker: ..." when it exists but cannot be read as one.
Result<std::optional<WipeMarker>> ReadWipeMarker(const std::string& key_file);

// Steps 1-4 above. Returns: kOk; kUnavailable "wipe: ..." (errno in the
// log) when a step fails: the marker, once written, stays.
Status WipeTerminal(const WipePaths& paths, const WipeMarker& marker);
// Steps 2-4 (idempotent).
Status FinishWipe(const WipePaths& paths);
// Removes the marker (the terminal was enrolled anew).
Status ClearWipeMarker(const std::string& key_file);

}  // namespace kassa::service
