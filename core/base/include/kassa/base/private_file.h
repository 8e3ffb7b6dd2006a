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

}  // namespace kassa
