#include "kassa/model/text.h"

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

// ASCII folding of U+00C0..U+00FF, one entry per code point ("" = not a letter).
constexpr const char* kLatin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};

// ASCII folding of U+0100..U+017F (Latin Extended-A: Latvian, Lithuanian,
// Polish, Czech, Turkish, ... letters).
constexpr const char* kLatinExtA[128] = {
    "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",   // 100
    "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",   // 110
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",   // 120
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l", // 130
    "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",   // 140
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", // 150
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",   // 160
    "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"};  // 170

bool IsCjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0xF900 && cp <= 0xFAFF);
}

// Letters and digits of every script count; punctuation and symbols separate.
bool IsWordChar(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  }
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;       // Latin-1 symbols
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;                 // punctuation, symbols
  if (cp >= 0x3000 && cp <= 0x303F) return false;                 // CJK punctuation
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;                 // full-width punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  return true;
}

// Appends the folded form of `cp` to `out`.
void AppendFolded(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
  } else if (cp >= 0xC0 && cp <= 0xFF) {
    const char* f = kLatin1[cp - 0xC0];
    if (*f != '\0') out += f; else AppendUtf8(out, cp);
  } else if (cp >= 0x100 && cp <= 0x17F) {
    out += kLatinExtA[cp - 0x100];
  } else if (cp >= 0x410 && cp <= 0x42F) {  // Cyrillic capitals
    AppendUtf8(out, cp + 0x20);
  } else if (cp >= 0x400 && cp <= 0x40F) {
    AppendUtf8(out, cp + 0x50);
  } else if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) {  // Greek capitals
    AppendUtf8(out, cp + 0x20);
  } else {
    AppendUtf8(out, cp);
  }
}

}  // namespace

std::string FoldText(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < utf8.size()) {
    if (DecodeUtf8(utf8, i, cp)) AppendFolded(out, cp);
  }
  return out;
}

std::vector<std::string> NameTokens(std::string_view utf8) {
  // Tokens of at most this many CJK suffixes each: a name is short, and the
  // cap bounds index growth on pathological input.
  constexpr std::size_t kMaxCjkSuffixes = 8;
  std::vector<std::string> tokens;
  std::string current;
  std::vector<std::size_t> cjk_starts;  // byte offsets in `current` where a CJK char begins
  const auto flush = [&] {
    if (current.empty()) return;
    tokens.push_back(current);
    for (std::size_t k = 0; k < cjk_starts.size() && k < kMaxCjkSuffixes; ++k) {
      if (cjk_starts[k] != 0) tokens.push_back(current.substr(cjk_starts[k]));
    }
    current.clear();
    cjk_starts.clear();
  };
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < utf8.size()) {
    if (!DecodeUtf8(utf8, i, cp)) continue;
    if (!IsWordChar(cp)) {
      flush();
      continue;
    }
    if (IsCjk(cp)) cjk_starts.push_back(current.size());
    AppendFolded(current, cp);
  }
  flush();
  return tokens;
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
