#include "kassa/model/sync.h"

namespace kassa::model {

std::string LinkVersionProblem(std::uint32_t version, std::string_view peer, std::string_view self) {
  if (version >= kOldestLinkProtocolVersion && version <= kLinkProtocolVersion) return "";
  std::string text = std::string(peer) + " speaks link protocol " + std::to_string(version) + "; " + std::string(self) +
                     " speaks " + std::to_string(kOldestLinkProtocolVersion) + " to " +
                     std::to_string(kLinkProtocolVersion) + ": upgrade ";
  return text + std::string(version < kOldestLinkProtocolVersion ? peer : self);
}

}  // namespace kassa::model
