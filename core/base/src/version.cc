#include "kassa/base/version.h"

#include "kassa_git_describe.h"  // generated: KASSA_GIT_DESCRIBE

namespace kassa {

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " KASSA_PROJECT_VERSION " (git " KASSA_GIT_DESCRIBE ", " KASSA_BUILD_TYPE ")";
}

}  // namespace kassa
