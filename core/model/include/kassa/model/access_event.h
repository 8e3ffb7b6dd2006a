#pragma once

// The data-access audit trail: who opened, listed, printed, exported,
// created, changed or erased which customer, where and when. A terminal
// records what its people see (opened, listed, printed) and ships it to
// headquarters in its own queue (storage::AccessEventQueue, link frames
// access_events / access_events_ack); headquarters records the changes it
// applies and what its admin API does, and answers "who looked at this
// customer" over the whole chain. Ids only: no name, email or phone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/model/ids.h"

namespace kassa::model {

enum class AccessAction : std::uint8_t {
  kOpened = 1,    // the customer's details or card were shown
  kListed = 2,    // the customer was among search results or a client book's entries
  kPrinted = 3,   // a receipt naming the customer was printed
  kExported = 4,  // everything held about the customer was exported (data-subject access)
  kCreated = 5,
  kChanged = 6,
  kErased = 7,
};
inline constexpr std::uint8_t kMaxAccessAction = 7;
// "opened" | "listed" | "printed" | "exported" | "created" | "changed" | "erased"
const char* ToString(AccessAction a);
std::optional<AccessAction> AccessActionFromWire(std::uint32_t v);

// Who is named as the actor when no signed-in associate is: the kiosk's
// shopper, and a scanner's or card reader's read before anyone acts on it.
inline constexpr std::string_view kKioskActor = "kiosk";

struct AccessEvent {
  LocalId customer;
  AccessAction action = AccessAction::kOpened;
  std::int64_t at_ms = 0;      // the recording side's clock (shown, never used for order)
  std::string terminal_id;     // where; "" at headquarters' admin API
  std::string operator_id;     // who: worker id, kKioskActor, "device:NAME", or an admin credential's name
  std::uint64_t seq = 0;       // a terminal's queue sequence (0 elsewhere): idempotence on resend
  friend bool operator==(const AccessEvent&, const AccessEvent&) = default;
};

}  // namespace kassa::model
