#pragma once

// Phone numbers in E.164, normalized with the store's country.
//
// "(020) 7946 0958" entered in a GB store and "+44 20 7946 0958" are one
// phone: +442079460958. The national significant number (2079460958) is kept
// for search by national-number prefix.
//
// Which numbers exist is libphonenumber's: its metadata for every region
// (Debian's python3-phonenumbers) is compiled in at build time
// (core/model/gen_phone_plan.py) and read as the library reads it: the
// national prefix and carrier codes dropped, the Italian leading zero kept,
// a number refused when its length is impossible for its calling code or
// it fits no numbering plan of that code.

#include <string>
#include <string_view>

#include "kassa/base/status.h"

namespace kassa::model {

struct PhoneNumber {
  std::string e164;      // "+442079460958"
  std::string national;  // national significant number "2079460958"; empty when the
                         // country code is not one kassa knows
};

// Normalizes `input` (digits, spaces, "-", ".", "(", ")", a leading "+",
// "00" or the country's own international prefix) dialled in `country`
// (ISO 3166-1 alpha-2).
//
// Returns:
//   kOk               the number.
//   kInvalidArgument  "phone: ..." other characters, an unknown country
//                     code, a length the code's plan does not have, a
//                     number no plan of its code has, a local number
//                     without its area code, or an unknown `country` for a
//                     national number. The caller renames the field.
Result<PhoneNumber> NormalizePhone(std::string_view input, std::string_view country);

// Whether `input` was dialled as an international number (+ or 00): what
// a refusal of it should talk about.
bool LooksInternational(std::string_view input);

// The libphonenumber release the numbering plans come from ("8.12.57").
std::string_view PhonePlanVersion();
// The plans whose patterns glibc cannot compile ("" when all compile).
std::string PhonePatternsThatDoNotCompile();

// The digits of `query` as a search key: for "+.."/"00.." the E.164 digits,
// otherwise the national number with the store country's trunk prefix
// removed. Empty when `query` is not phone-like (needs 3+ digits and only
// phone punctuation).
std::string PhoneSearchDigits(std::string_view query, std::string_view country);

// For a national query (no + or 00) in a store whose country's numbers the
// index keeps by their E.164 digits (a calling code it does not keep
// nationally, see NationalNumberOf): the E.164 digits the numbers it stands
// for begin with ("39" + "0612" in Italy). Empty otherwise.
std::string NationalQueryAsE164(std::string_view query, std::string_view country);

// The national significant number of an E.164 number when the search index
// keeps its country code's numbers nationally (26 countries, fixed by the
// store layout), else empty.
std::string NationalNumberOf(std::string_view e164);

// The country calling code of an E.164 number ("+37126123456" -> "371") when
// the search index keeps its numbers nationally, else empty.
std::string CountryCodeOf(std::string_view e164);

// Both at once (one look-up of the calling code): false, with both left
// empty, when the index does not keep the number nationally.
bool SplitNational(std::string_view e164, std::string& code, std::string& national);

// True when kassa knows the dialling rules of `country` (any region libphonenumber knows).
bool IsKnownPhoneCountry(std::string_view country);

}  // namespace kassa::model
