#include "kassa/model/sync.h"

namespace kassa::model {

bool Speaks(std::uint32_t version, const Change& change) {
  const bool conflict = change.kind == Change::Kind::kClienteling && change.clienteling.timeline_entry &&
                        change.clienteling.timeline_entry->kind == TimelineKind::kConflict;
  return !conflict || version >= 2;
}

std::string LinkVersionProblem(std::uint32_t version, std::string_view peer, std::string_view self) {
  if (version >= kOldestLinkProtocolVersion && version <= kLinkProtocolVersion) return "";
  std::string text = std::string(peer) + " speaks link protocol " + std::to_string(version) + "; " + std::string(self) +
                     " speaks " + std::to_string(kOldestLinkProtocolVersion) + " to " +
                     std::to_string(kLinkProtocolVersion) + ": upgrade ";
  return text + std::string(version < kOldestLinkProtocolVersion ? peer : self);
}

}  // namespace kassa::model
