#include "kassa/model/access_event.h"

namespace kassa::model {

const char* ToString(AccessAction a) {
  switch (a) {
    case AccessAction::kOpened: return "opened";
    case AccessAction::kListed: return "listed";
    case AccessAction::kPrinted: return "printed";
    case AccessAction::kExported: return "exported";
    case AccessAction::kCreated: return "created";
    case AccessAction::kChanged: return "changed";
    case AccessAction::kErased: return "erased";
  }
  return "unknown";
}

std::optional<AccessAction> AccessActionFromWire(std::uint32_t v) {
  if (v == 0 || v > kMaxAccessAction) return std::nullopt;
  return static_cast<AccessAction>(v);
}

}  // namespace kassa::model
