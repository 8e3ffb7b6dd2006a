#pragma once

// The numbering plans of every region libphonenumber knows, generated at
// build time by core/model/gen_phone_plan.py (phone_plan_data.inc), and
// the matching of their patterns with glibc's POSIX regular expressions.
// Private to phone.cc.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kassa::model::phone_plan {

struct PlanRegion {
  const char* region;             // ISO 3166-1 alpha-2; "" for a non-geographic code (+800 ...)
  std::uint16_t code;             // country calling code
  bool main;                      // the code's main region (its lengths decide "possible")
  const char* prefix_for_parsing; // POSIX ERE of the national prefix (and carrier code) dialled before
                                  // a national number; "" when none
  const char* transform;          // what replaces a matched prefix ("\N" its groups); "" to drop it
  int last_group;                 // group of the prefix whose match says the transform applies; 0 none
  const char* intl_prefix;        // POSIX ERE of the international dialling prefix ("00", "011")
  const char* general;            // POSIX ERE every valid national significant number matches
  std::uint32_t lengths;          // possible national significant number lengths (bit n: n digits)
  std::uint32_t local_lengths;    // lengths only dialled locally (without an area code)
};

// The plan of region `iso` (either case), or null.
const PlanRegion* ForRegion(std::string_view iso);
// The main plan of calling code `code`, or null when no region has it.
const PlanRegion* ForCode(unsigned code);

// Whether the whole of `digits` matches the general pattern of `r`.
bool MatchesWhole(const PlanRegion& r, std::string_view digits);
// Whether `digits` matches the general pattern of any region of calling code `code`.
bool FitsPlanOfCode(unsigned code, std::string_view digits);
// libphonenumber's removal of a national prefix (and carrier code): when
// `r`'s prefix for parsing begins `digits`, `rest` is what is left once it
// is removed or transformed, and true; not when that would turn a number
// that fits the plan into one that does not.
bool StripPrefix(const PlanRegion& r, std::string_view digits, std::string& rest);
// The length of the international dialling prefix at the start of
// `digits` ("00" in Europe, "011" in NANP), 0 when there is none.
std::size_t IntlPrefixLength(const PlanRegion& r, std::string_view digits);
// Every pattern of every plan compiled: the regions whose patterns glibc
// refused (empty when all compile; the tests hold it so).
std::string PatternsThatDoNotCompile();

// "8.12.57": the libphonenumber release the plans come from.
std::string_view Version();

}  // namespace kassa::model::phone_plan
