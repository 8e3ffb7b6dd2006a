#pragma once

// Reading a secret file (a private key, the store master key): refused when
// its mode lets the group or others read or write it, never followed
// through a symbolic link, bounded in size.
//
// Threading: safe from any thread.

#include <cstddef>
#include <string>

#include "kassa/base/status.h"

namespace kassa {

// Reads at most `max_bytes` of `path`. Returns: kOk; kNotFound "file: ...";
// kPermissionDenied "file: readable by others (chmod 600)"; kInvalidArgument
// "file: larger than expected"; kUnavailable "file: ...".
Result<std::string> ReadPrivateFile(const std::string& path, std::size_t max_bytes);

// The canonical path of the directory file `path` is in ("" when that
// directory does not exist).
std::string DirectoryOf(const std::string& path);

// Whether a file at `path` lies in directory `dir` or below it (symbolic
// links resolved; false when `dir` does not exist). For secrets that must
// not travel with a copy of the data directory.
bool LiesInside(const std::string& path, const std::string& dir);

}  // namespace kassa
