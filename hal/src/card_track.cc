#include "kassa/hal/card_track.h"

#include <algorithm>
#include <cctype>

namespace kassa::hal {
namespace {

bool IsCardChars(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
  });
}

std::string TrimName(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

std::optional<CardSwipe> ParseCardTrack(std::string_view raw, std::string_view badge_prefix) {
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
  CardSwipe swipe;
  // A reader may send track 1 then track 2 in one swipe: take track 1's
  // number and name, which carries more.
  if (raw.size() > 2 && raw[0] == '%' && (raw[1] == 'B' || raw[1] == 'b')) {
    const auto caret = raw.find('^', 2);
    const auto end = raw.find('?');
    if (caret == std::string_view::npos || end == std::string_view::npos || caret > end) return std::nullopt;
    swipe.number = std::string(raw.substr(2, caret - 2));
    const auto caret2 = raw.find('^', caret + 1);
    if (caret2 != std::string_view::npos && caret2 < end) swipe.name = TrimName(raw.substr(caret + 1, caret2 - caret - 1));
  } else if (!raw.empty() && raw[0] == ';') {
    const auto end = raw.find('?');
    if (end == std::string_view::npos) return std::nullopt;
    const auto sep = raw.find('=');
    swipe.number = std::string(raw.substr(1, (sep != std::string_view::npos && sep < end ? sep : end) - 1));
  } else {
    swipe.number = std::string(raw);  // NFC in keyboard mode: the number itself
  }
  if (!IsCardChars(swipe.number) || swipe.number.size() > 32) return std::nullopt;
  std::transform(swipe.number.begin(), swipe.number.end(), swipe.number.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  if (!badge_prefix.empty() && swipe.number.rfind(badge_prefix, 0) == 0) swipe.kind = CardSwipe::Kind::kBadge;
  return swipe;
}


}  // namespace kassa::hal
