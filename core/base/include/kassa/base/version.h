#pragma once

// What `--version` prints on every kassa binary: the program, kassa's
// release (CMake's project version), the source tree's `git describe` at
// build time ("-dirty" when it had changes) and the build type.
//
//   kassad 0.1.0 (git 9b5172d, RelWithDebInfo)

#include <string>
#include <string_view>

namespace kassa {

std::string VersionLine(std::string_view program);

}  // namespace kassa
