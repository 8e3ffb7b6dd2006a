#pragma once

// Text folding and tokenizing for search: the same functions build index
// terms and query terms, so what is indexed is exactly what can be found.

#include <string>
#include <string_view>
#include <vector>

namespace kassa::model {

// Lower-cases and folds accents of Latin letters ("Bērziņš" -> "berzins",
// "Åström" -> "astrom", "Straße" -> "strasse"). Other scripts pass through
// unchanged. Invalid UTF-8 bytes are dropped.
std::string FoldText(std::string_view utf8);

// Splits folded `utf8` into search tokens at anything that is not a letter or
// digit (spaces, punctuation, hyphens, apostrophes). A run of CJK ideographs
// also yields each suffix of the run, so "王小明" is found by "小明" too.
std::vector<std::string> NameTokens(std::string_view utf8);

// The code points of `utf8`; invalid bytes are dropped.
std::u32string CodePoints(std::string_view utf8);

// True when `s` is valid UTF-8 with no control characters.
bool IsCleanUtf8(std::string_view s);

// `s` with ASCII letters upper-cased (account and card numbers, codes).
std::string AsciiUpper(std::string_view s);

// Removes leading and trailing ASCII white space.
std::string_view Trim(std::string_view s);

}  // namespace kassa::model
