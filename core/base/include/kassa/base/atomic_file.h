#pragma once

// The one way kassa writes a file that must never be seen half-written:
// configuration, the device secret, port files, kassactl's session. A power
// cut or a crash at any instant leaves the old file or the new one.
//
//   1. a new temporary file beside `path`, created O_EXCL|O_NOFOLLOW with
//      `mode` (a name taken by anyone else, or a planted symlink, is never
//      written through);
//   2. the whole content written and fsync()ed;
//   3. rename() over `path`;
//   4. the directory fsync()ed, so the rename itself is durable.
// On any failure the temporary file is removed and `path` is untouched.
//
// Threading: safe from any thread; concurrent writers of one path each
// leave a whole file (the last rename wins).

#include <string>
#include <string_view>
#include <sys/types.h>

#include "kassa/base/status.h"

namespace kassa {

// Returns: kOk; kUnavailable "file: ..." when the directory cannot be
// written, the disk is full or a sync fails (errno in the log).
Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode = 0644);

// The same, but only when `path` does not exist yet: step 3 is a link(),
// which never replaces, so of two processes creating one file (a secret)
// exactly one succeeds and the other is told.
// Returns: kOk; kAlreadyExists "file: exists"; kUnavailable as above.
Status CreateFileAtomically(const std::string& path, std::string_view content, mode_t mode);

}  // namespace kassa
