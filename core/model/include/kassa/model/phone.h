#pragma once

// Phone numbers in E.164, normalized with the store's country.
//
// "(020) 7946 0958" entered in a GB store and "+44 20 7946 0958" are one
// phone: +442079460958. The national significant number (2079460958) is kept
// for search by national-number prefix.

#include <string>
#include <string_view>

#include "kassa/base/status.h"

namespace kassa::model {

struct PhoneNumber {
  std::string e164;      // "+442079460958"
  std::string national;  // national significant number "2079460958"; empty when the
                         // country code is not one kassa knows
};

// Normalizes `input` (digits, spaces, "-", ".", "(", ")", a leading "+" or
// "00") dialled in `country` (ISO 3166-1 alpha-2).
//
// Returns:
//   kOk               the number.
//   kInvalidArgument  "phone: ..." other characters, too few or too many
//                     digits for the country, or an unknown `country` for a
//                     national number. The caller renames the field.
Result<PhoneNumber> NormalizePhone(std::string_view input, std::string_view country);

// The digits of `query` as a search key: for "+.."/"00.." the E.164 digits,
// otherwise the national number with the store country's trunk prefix
// removed. Empty when `query` is not phone-like (needs 3+ digits and only
// phone punctuation).
std::string PhoneSearchDigits(std::string_view query, std::string_view country);

// The national significant number of an E.164 number when its country code
// is known, else empty.
std::string NationalNumberOf(std::string_view e164);

// The country calling code of an E.164 number ("+37126123456" -> "371"), or
// empty when kassa does not know it.
std::string CountryCodeOf(std::string_view e164);

// True when kassa knows the dialling rules of `country`.
bool IsKnownPhoneCountry(std::string_view country);

}  // namespace kassa::model
