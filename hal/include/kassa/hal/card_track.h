#pragma once

// Magnetic-stripe and keyboard-NFC track data, parsed.
//
// Track 2 (ISO 7813): ";" PAN "=" data "?"      e.g. ";6012345678=2512?"
// Track 1 (ISO 7813): "%B" PAN "^" NAME "^" data "?"
// NFC readers in keyboard mode type the UID or the card number, then Enter.
//
// A number starting with the configured badge prefix is an operator badge;
// any other is a loyalty card.

#include <optional>
#include <string>
#include <string_view>

namespace kassa::hal {

struct CardSwipe {
  enum class Kind : unsigned char { kLoyaltyCard = 1, kBadge = 2 };
  Kind kind = Kind::kLoyaltyCard;
  std::string number;  // the card or badge number, as printed on the card
  std::string name;    // track 1 holder name, if any
  friend bool operator==(const CardSwipe&, const CardSwipe&) = default;
};

// Parses one swipe's raw text; nullopt when it is no track format kassa
// knows (a misread: the reader reports it and the associate swipes again).
std::optional<CardSwipe> ParseCardTrack(std::string_view raw, std::string_view badge_prefix);

}  // namespace kassa::hal
