#include "kassa/model/text.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace kassa::model {
namespace {

// Decodes one UTF-8 sequence at `s[i]`. On success stores the code point and
// advances `i`; on an invalid sequence returns false and advances by one byte.
bool DecodeUtf8(std::string_view s, std::size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2; cp = b0 & 0x1F; min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3; cp = b0 & 0x0F; min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4; cp = b0 & 0x07; min = 0x10000;
  } else {
    ++i;
    return false;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return false;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return false;
  }
  i += static_cast<std::size_t>(len);
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string Utf8Of(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (const char32_t cp : cps) AppendUtf8(out, cp);
  return out;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The diacritics Latin, Greek and Cyrillic letters carry, dropped by the
// folding. Marks of other scripts (Indic vowel signs, the kana voicing
// marks, Hebrew and Arabic points) are kept: there they tell names apart.
bool IsStrippedDiacritic(char32_t cp) {
  return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x483 && cp <= 0x489) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

// Lower-case letters that no Unicode decomposition relates to a base letter
// (a letter with a stroke, a ligature, a letter of its own), as a reader of
// Latin script would type them without the mark.
const char* LatinFallback(char32_t cp) {
  switch (cp) {
    case 0xE6: return "ae";    // æ
    case 0xF0: return "d";     // ð
    case 0xF8: return "o";     // ø
    case 0xFE: return "th";    // þ
    case 0x111: return "d";    // đ
    case 0x127: return "h";    // ħ
    case 0x131: return "i";    // ı (dotless i)
    case 0x138: return "k";    // ĸ
    case 0x142: return "l";    // ł
    case 0x14B: return "n";    // ŋ
    case 0x153: return "oe";   // œ
    case 0x167: return "t";    // ŧ
    case 0x180: return "b";    // ƀ
    case 0x192: return "f";    // ƒ
    case 0x1B6: return "z";    // ƶ
    case 0x1E5: return "g";    // ǥ
    case 0x225: return "z";    // ȥ
    case 0x268: return "i";    // ɨ
    case 0x289: return "u";    // ʉ
    default: return nullptr;
  }
}

// Characters of scripts written without spaces between a name's parts:
// Han, Hiragana, Katakana and Hangul syllables.
bool IsCjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x3134F) || (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FA) ||
         (cp >= 0x31F0 && cp <= 0x31FF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

// Letters, marks and digits of every script make words; the rest
// (punctuation, symbols, spaces) separates them.
bool IsWordChar(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  }
  const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_NO);
}

// The folded code points of `utf8` (invalid bytes dropped): compatibility
// decomposition (NFKD: full-width and half-width forms, ligatures), Unicode
// case folding, the diacritics of IsStrippedDiacritic() dropped, the
// letters of LatinFallback() replaced, then canonical composition (NFC), so
// that Hangul jamo and kana with voicing marks compare as the syllables
// they make. The same name typed precomposed, decomposed, in capitals or
// in full-width forms folds to the same code points.
std::u32string FoldCodePoints(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  bool compose = false;  // something left that NFC could combine
  std::array<utf8proc_int32_t, 32> parts{};
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < utf8.size()) {
    if (!DecodeUtf8(utf8, i, cp)) continue;
    if (cp < 0x80) {
      out += (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
      continue;
    }
    int boundclass = 0;
    const utf8proc_ssize_t n =
        utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), parts.data(), static_cast<utf8proc_ssize_t>(parts.size()),
                                static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD),
                                &boundclass);
    if (n < 0 || static_cast<std::size_t>(n) > parts.size()) {  // unassigned, or longer than any decomposition
      out += cp;
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      const auto part = static_cast<char32_t>(parts[static_cast<std::size_t>(k)]);
      if (IsStrippedDiacritic(part)) continue;
      if (const char* latin = LatinFallback(part)) {
        for (const char* c = latin; *c != '\0'; ++c) out += static_cast<char32_t>(*c);
        continue;
      }
      compose = compose || part >= 0x300;
      out += part;
    }
  }
  if (compose) {
    const utf8proc_ssize_t n = utf8proc_normalize_utf32(reinterpret_cast<utf8proc_int32_t*>(out.data()),
                                                        static_cast<utf8proc_ssize_t>(out.size()),
                                                        static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
    if (n >= 0) out.resize(static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

std::string FoldText(std::string_view utf8) {
  if (IsAscii(utf8)) {
    std::string out(utf8);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  return Utf8Of(FoldCodePoints(utf8));
}

std::vector<std::string> NameTokens(std::string_view utf8) {
  // Tokens of at most this many CJK suffixes each: a name is short, and the
  // cap bounds index growth on pathological input.
  constexpr std::size_t kMaxCjkSuffixes = 8;
  const std::u32string folded = FoldCodePoints(utf8);
  std::vector<std::string> tokens;
  std::size_t start = 0;
  const auto flush = [&](std::size_t end) {
    if (end == start) return;
    const std::u32string_view word(folded.data() + start, end - start);
    tokens.push_back(Utf8Of(word));
    std::size_t suffixes = 0;
    for (std::size_t k = 1; k < word.size() && suffixes < kMaxCjkSuffixes; ++k) {
      if (!IsCjk(word[k])) continue;
      tokens.push_back(Utf8Of(word.substr(k)));
      ++suffixes;
    }
  };
  for (std::size_t k = 0; k < folded.size(); ++k) {
    if (IsWordChar(folded[k])) continue;
    flush(k);
    start = k + 1;
  }
  flush(folded.size());
  return tokens;
}

std::vector<std::string> JoinedNameTokens(std::string_view family, std::string_view given) {
  // Every CJK character, and every form that folds to one (Hangul jamo from
  // U+1100, Kangxi radicals, half-width and compatibility forms), is U+1000
  // or above: a UTF-8 lead byte of 0xE1 or more. Most names have none.
  const auto may_hold_cjk = [](std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xE1; });
  };
  if (!may_hold_cjk(family) || !may_hold_cjk(given)) return {};
  const std::u32string f = FoldCodePoints(family);
  const std::u32string g = FoldCodePoints(given);
  if (f.empty() || g.empty() || !IsCjk(f.back()) || !IsCjk(g.front())) return {};
  std::vector<std::string> apart = NameTokens(family);
  for (auto& t : NameTokens(given)) apart.push_back(std::move(t));
  std::vector<std::string> joined;
  for (auto& t : NameTokens(std::string(family) + std::string(given))) {
    if (std::find(apart.begin(), apart.end(), t) == apart.end()) joined.push_back(std::move(t));
  }
  return joined;
}

std::u32string CodePoints(std::string_view utf8) {
  std::u32string out;
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < utf8.size()) {
    if (DecodeUtf8(utf8, i, cp)) out.push_back(cp);
  }
  return out;
}

bool IsCleanUtf8(std::string_view s) {
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    if (!DecodeUtf8(s, i, cp)) return false;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return false;
  }
  return true;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace kassa::model
