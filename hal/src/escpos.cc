#include "kassa/hal/escpos.h"

#include <algorithm>
#include <array>
#include <utility>

namespace kassa::hal::escpos {
namespace {

constexpr std::uint8_t ESC = 0x1B;
constexpr std::uint8_t GS = 0x1D;
constexpr std::uint8_t DLE = 0x10;
constexpr std::uint8_t EOT = 0x04;

// Latin letters with diacritics used by the seed languages (Latvian,
// Finnish, Swedish, German, Estonian, Lithuanian, Polish) -> ASCII.
struct Fold {
  char32_t cp;
  const char* ascii;
};
constexpr std::array kFolds = {
    Fold{U'Ā', "A"}, Fold{U'ā', "a"}, Fold{U'Č', "C"}, Fold{U'č', "c"}, Fold{U'Ē', "E"}, Fold{U'ē', "e"},
    Fold{U'Ģ', "G"}, Fold{U'ģ', "g"}, Fold{U'Ī', "I"}, Fold{U'ī', "i"}, Fold{U'Ķ', "K"}, Fold{U'ķ', "k"},
    Fold{U'Ļ', "L"}, Fold{U'ļ', "l"}, Fold{U'Ņ', "N"}, Fold{U'ņ', "n"}, Fold{U'Š', "S"}, Fold{U'š', "s"},
    Fold{U'Ū', "U"}, Fold{U'ū', "u"}, Fold{U'Ž', "Z"}, Fold{U'ž', "z"}, Fold{U'Ä', "A"}, Fold{U'ä', "a"},
    Fold{U'Å', "A"}, Fold{U'å', "a"}, Fold{U'Ö', "O"}, Fold{U'ö', "o"}, Fold{U'Ü', "U"}, Fold{U'ü', "u"},
    Fold{U'Õ', "O"}, Fold{U'õ', "o"}, Fold{U'ß', "ss"}, Fold{U'É', "E"}, Fold{U'é', "e"}, Fold{U'È', "E"},
    Fold{U'è', "e"}, Fold{U'Á', "A"}, Fold{U'á', "a"}, Fold{U'Ó', "O"}, Fold{U'ó', "o"}, Fold{U'Ą', "A"},
    Fold{U'ą', "a"}, Fold{U'Ę', "E"}, Fold{U'ę', "e"}, Fold{U'Ė', "E"}, Fold{U'ė', "e"}, Fold{U'Į', "I"},
    Fold{U'į', "i"}, Fold{U'Ų', "U"}, Fold{U'ų', "u"}, Fold{U'Ł', "L"}, Fold{U'ł', "l"}, Fold{U'Ś', "S"},
    Fold{U'ś', "s"}, Fold{U'Ź', "Z"}, Fold{U'ź', "z"}, Fold{U'Ż', "Z"}, Fold{U'ż', "z"}, Fold{U'Ć', "C"},
    Fold{U'ć', "c"}, Fold{U'Ń', "N"}, Fold{U'ń', "n"}, Fold{U'Æ', "AE"}, Fold{U'æ', "ae"}, Fold{U'Ø', "O"},
    Fold{U'ø', "o"}, Fold{U'\u00A0', " "},
};

}  // namespace

std::string AsciiFold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += (b >= 0x20 && b != 0x7F) ? static_cast<char>(b) : ' ';
      ++i;
      continue;
    }
    std::size_t len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    if (i + len > s.size()) len = 1;
    char32_t cp = len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    const char* folded = "?";
    for (const auto& f : kFolds) {
      if (f.cp == cp) folded = f.ascii;
    }
    out += folded;
    i += len;
  }
  return out;
}

Job::Job() : bytes_{ESC, '@'} {}

Job& Job::Center(bool on) {
  bytes_.insert(bytes_.end(), {ESC, 'a', static_cast<std::uint8_t>(on ? 1 : 0)});
  return *this;
}
Job& Job::Bold(bool on) {
  bytes_.insert(bytes_.end(), {ESC, 'E', static_cast<std::uint8_t>(on ? 1 : 0)});
  return *this;
}
Job& Job::DoubleSize(bool on) {
  bytes_.insert(bytes_.end(), {GS, '!', static_cast<std::uint8_t>(on ? 0x11 : 0x00)});
  return *this;
}
Job& Job::Line(std::string_view utf8) {
  const std::string text = AsciiFold(utf8);
  bytes_.insert(bytes_.end(), text.begin(), text.end());
  bytes_.push_back('\n');
  return *this;
}
Job& Job::Feed(int lines) {
  bytes_.insert(bytes_.end(), {ESC, 'd', static_cast<std::uint8_t>(std::clamp(lines, 0, 255))});
  return *this;
}
Job& Job::Cut() {
  bytes_.insert(bytes_.end(), {GS, 'V', 66, 0});
  return *this;
}

Bytes StatusRequest(std::uint8_t n) { return Bytes{DLE, EOT, n}; }

DeviceStatus InterpretStatus(std::uint8_t offline_cause, std::uint8_t paper) {
  // DLE EOT 2: bit 2 cover open, bit 5 paper end stop, bit 6 error.
  // DLE EOT 4: bits 5-6 paper end detected (bits 2-3: near end, still printing).
  if ((offline_cause & 0x04) != 0) return {DeviceStatus::State::kFault, "cover open"};
  if ((paper & 0x60) == 0x60 || (offline_cause & 0x20) != 0) return {DeviceStatus::State::kFault, "paper out"};
  if ((offline_cause & 0x40) != 0) return {DeviceStatus::State::kFault, "printer error"};
  return {DeviceStatus::State::kReady, (paper & 0x0C) == 0x0C ? "paper low" : ""};
}

}  // namespace kassa::hal::escpos
