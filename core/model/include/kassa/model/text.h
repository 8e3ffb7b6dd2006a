#pragma once

// Text folding and tokenizing for search: the same functions build index
// terms and query terms, so what is indexed is exactly what can be found.
// Unicode's decompositions, case folding and categories come from utf8proc
// (Debian's libutf8proc); written here is only what is kassa's choice: which
// marks are dropped, the letters that do not decompose, where words end.

#include <string>
#include <string_view>
#include <vector>

namespace kassa::model {

// Folds `utf8` for comparison: compatibility forms (full-width letters,
// ligatures) to their plain letters, Unicode case folding, the diacritics
// of Latin, Greek and Cyrillic letters dropped, letters without a
// decomposition replaced ("Bērziņš" -> "berzins", "ÅSTRÖM" -> "astrom",
// "Straße" -> "strasse", "Łøæđ" -> "loaed", "Ș" -> "s", "Ё" -> "е"); marks
// of other scripts kept, composed (NFC). Input precomposed or decomposed
// folds alike. Invalid UTF-8 bytes are dropped.
std::string FoldText(std::string_view utf8);

// Splits folded `utf8` into search tokens at anything that is not a letter,
// mark or digit (spaces, punctuation, hyphens, apostrophes, symbols). A word
// with Han, Hiragana, Katakana or Hangul characters also yields its suffix
// at each of them (at most 8), so "王小明" is found by "小明" too.
std::vector<std::string> NameTokens(std::string_view utf8);

// The tokens a name written in CJK order without a space adds to those of
// its parts: when `family` ends and `given` begins with a CJK character,
// the tokens of the two joined that neither has alone ("王" + "小明" ->
// "王小明"; the suffixes "小明" and "明" are the given name's own). Empty
// otherwise.
std::vector<std::string> JoinedNameTokens(std::string_view family, std::string_view given);

// The code points of `utf8`; invalid bytes are dropped.
std::u32string CodePoints(std::string_view utf8);

// True when `s` is valid UTF-8 with no control characters.
bool IsCleanUtf8(std::string_view s);

// `s` with ASCII letters upper-cased (account and card numbers, codes).
std::string AsciiUpper(std::string_view s);

// Removes leading and trailing ASCII white space.
std::string_view Trim(std::string_view s);

}  // namespace kassa::model
