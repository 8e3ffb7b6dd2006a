#include "kassa/model/phone.h"

#include <algorithm>
#include <array>

namespace kassa::model {
namespace {

// Dialling rules of the countries kassa's retailers operate in. Lengths are
// of the national significant number (without trunk prefix), from the ITU-T
// E.164 national numbering plans.
struct CountryDialling {
  const char* iso;         // ISO 3166-1 alpha-2
  const char* code;        // country calling code digits
  const char* trunk;       // national trunk prefix removed from national input ("" if none)
  std::size_t min_digits;  // national significant number length bounds
  std::size_t max_digits;
};

constexpr std::array<CountryDialling, 26> kCountries{{
    {"AU", "61", "0", 9, 9},    {"AT", "43", "0", 4, 13},  {"BE", "32", "0", 8, 9},
    {"CA", "1", "1", 10, 10},   {"CN", "86", "0", 7, 11},  {"DE", "49", "0", 6, 13},
    {"DK", "45", "", 8, 8},     {"EE", "372", "", 7, 10},  {"ES", "34", "", 9, 9},
    {"FI", "358", "0", 5, 12},  {"FR", "33", "0", 9, 9},   {"GB", "44", "0", 9, 10},
    {"HK", "852", "", 8, 8},    {"IE", "353", "0", 7, 9},  {"IS", "354", "", 7, 9},
    {"JP", "81", "0", 9, 10},   {"LT", "370", "8", 8, 8},  {"LV", "371", "", 8, 8},
    {"NL", "31", "0", 9, 9},    {"NO", "47", "", 8, 8},    {"NZ", "64", "0", 8, 10},
    {"PL", "48", "", 9, 9},     {"SE", "46", "0", 7, 9},   {"SG", "65", "", 8, 8},
    {"TW", "886", "0", 8, 9},   {"US", "1", "1", 10, 10},
}};

const CountryDialling* FindCountry(std::string_view iso) {
  for (const auto& c : kCountries) {
    if (iso.size() == 2 && (iso[0] & ~0x20) == c.iso[0] && (iso[1] & ~0x20) == c.iso[1]) return &c;
  }
  return nullptr;
}

// The known country whose calling code is the longest prefix of `digits`.
const CountryDialling* CountryOfInternational(std::string_view digits) {
  const CountryDialling* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& c : kCountries) {
    const std::string_view code(c.code);
    if (digits.substr(0, code.size()) == code && code.size() > best_len) {
      best = &c;
      best_len = code.size();
    }
  }
  return best;
}

bool IsPhonePunctuation(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

// Splits `input` into "international?" and its digits. False when a
// character is neither a digit nor phone punctuation, or '+' is misplaced.
bool ScanPhone(std::string_view input, bool& international, std::string& digits) {
  international = false;
  digits.clear();
  bool seen_digit = false;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      seen_digit = true;
    } else if (c == '+' && !seen_digit && !international) {
      international = true;
    } else if (!IsPhonePunctuation(c)) {
      return false;
    }
  }
  if (!international && digits.size() > 2 && digits.compare(0, 2, "00") == 0) {
    international = true;
    digits.erase(0, 2);
  }
  return true;
}

// Removes the country's trunk prefix from a nationally dialled number. "0"
// never begins a national significant number in these plans, so it is always
// a trunk prefix; other prefixes ("1" in NANP, "8" in LT) only when the
// number is too long without them being one.
std::string StripTrunkPrefix(const CountryDialling& c, std::string digits) {
  const std::string_view trunk(c.trunk);
  if (trunk.empty() || digits.compare(0, trunk.size(), trunk) != 0) return digits;
  const std::size_t rest = digits.size() - trunk.size();
  if (trunk == "0" || (rest >= c.min_digits && rest <= c.max_digits && digits.size() > c.max_digits)) {
    digits.erase(0, trunk.size());
  }
  return digits;
}

}  // namespace

Result<PhoneNumber> NormalizePhone(std::string_view input, std::string_view country) {
  bool international = false;
  std::string digits;
  if (!ScanPhone(input, international, digits)) {
    return Status(StatusCode::kInvalidArgument, "phone: not a phone number (only digits, spaces, - . ( ) and a leading +)");
  }
  if (digits.empty()) return Status(StatusCode::kInvalidArgument, "phone: not a phone number (no digits)");
  PhoneNumber out;
  if (international) {
    // E.164: at most 15 digits; the shortest real numbers have 7 or more.
    if (digits.size() < 7 || digits.size() > 15) {
      return Status(StatusCode::kInvalidArgument, "phone: an international number has 7 to 15 digits");
    }
    if (const CountryDialling* c = CountryOfInternational(digits)) {
      const std::size_t nsn = digits.size() - std::string_view(c->code).size();
      if (nsn < c->min_digits || nsn > c->max_digits) {
        return Status(StatusCode::kInvalidArgument, "phone: wrong number of digits for its country code");
      }
      out.national = digits.substr(std::string_view(c->code).size());
    }
    out.e164 = "+" + digits;
    return out;
  }
  const CountryDialling* c = FindCountry(country);
  if (c == nullptr) {
    return Status(StatusCode::kInvalidArgument, "phone: give the number with + and country code (the store's country dialling rules are unknown)");
  }
  digits = StripTrunkPrefix(*c, std::move(digits));
  if (digits.size() < c->min_digits || digits.size() > c->max_digits) {
    return Status(StatusCode::kInvalidArgument, "phone: wrong number of digits for a number in the store's country");
  }
  out.national = digits;
  out.e164 = std::string("+") + c->code + digits;
  return out;
}

std::string PhoneSearchDigits(std::string_view query, std::string_view country) {
  bool international = false;
  std::string digits;
  if (!ScanPhone(query, international, digits) || digits.size() < 3) return {};
  if (international) return digits;
  if (const CountryDialling* c = FindCountry(country)) return StripTrunkPrefix(*c, std::move(digits));
  return digits;
}

std::string NationalNumberOf(std::string_view e164) {
  if (e164.empty() || e164[0] != '+') return {};
  const std::string_view digits = e164.substr(1);
  if (const CountryDialling* c = CountryOfInternational(digits)) {
    return std::string(digits.substr(std::string_view(c->code).size()));
  }
  return {};
}

std::string CountryCodeOf(std::string_view e164) {
  if (e164.empty() || e164[0] != '+') return {};
  const CountryDialling* c = CountryOfInternational(e164.substr(1));
  return c ? std::string(c->code) : std::string();
}

bool IsKnownPhoneCountry(std::string_view country) { return FindCountry(country) != nullptr; }

}  // namespace kassa::model
