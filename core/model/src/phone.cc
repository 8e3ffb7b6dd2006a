#include "kassa/model/phone.h"

#include <algorithm>
#include <array>

#include "phone_plan.h"

namespace kassa::model {
namespace {

// The countries whose numbers the search index keeps as national numbers
// with their country code (kPhoneNational), with the trunk prefix a search
// query drops; numbers of every other code are indexed by their E.164
// digits. The set is part of the store layout (changing it means rebuilding
// the index); which numbers are valid is libphonenumber's (phone_plan.h).
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

// libphonenumber's length test of a national significant number against a
// plan's possible lengths.
enum class Length { kPossible, kLocalOnly, kTooShort, kTooLong, kInvalid };
Length TestLength(const phone_plan::PlanRegion& plan, std::size_t n) {
  if (n > 31) return Length::kTooLong;
  if ((plan.local_lengths >> n & 1u) != 0) return Length::kLocalOnly;
  if ((plan.lengths >> n & 1u) != 0) return Length::kPossible;
  if (plan.lengths == 0) return Length::kInvalid;
  const unsigned shortest = static_cast<unsigned>(__builtin_ctz(plan.lengths));
  const unsigned longest = 31u - static_cast<unsigned>(__builtin_clz(plan.lengths));
  return n < shortest ? Length::kTooShort : n > longest ? Length::kTooLong : Length::kInvalid;
}

// The plan of the calling code `digits` begin with (one to three digits),
// and the code's length; null when no region has such a code.
const phone_plan::PlanRegion* PlanOfInternational(std::string_view digits, std::size_t& code_len) {
  if (digits.empty() || digits[0] == '0') return nullptr;  // no calling code begins with 0
  unsigned code = 0;
  for (std::size_t n = 1; n <= 3 && n < digits.size(); ++n) {
    code = code * 10 + static_cast<unsigned>(digits[n - 1] - '0');
    if (const auto* plan = phone_plan::ForCode(code)) {
      code_len = n;
      return plan;
    }
  }
  return nullptr;
}

Status Invalid(const char* message) { return Status(StatusCode::kInvalidArgument, message); }

}  // namespace

Result<PhoneNumber> NormalizePhone(std::string_view input, std::string_view country) {
  bool international = false;
  std::string digits;
  if (!ScanPhone(input, international, digits)) {
    return Invalid("phone: not a phone number (only digits, spaces, - . ( ) and a leading +)");
  }
  if (digits.empty()) return Invalid("phone: not a phone number (no digits)");
  const phone_plan::PlanRegion* home = phone_plan::ForRegion(country);
  // The store country's own international prefix ("011" in NANP; "00" was taken above).
  if (!international && home != nullptr) {
    const std::size_t idd = phone_plan::IntlPrefixLength(*home, digits);
    if (idd > 0 && idd < digits.size() && digits[idd] != '0') {
      international = true;
      digits.erase(0, idd);
    }
  }
  if (digits.size() > 17 + 3) return Invalid("phone: too many digits for a phone number");

  // The calling code and the national number as dialled, and the plan that reads it.
  const phone_plan::PlanRegion* plan = nullptr;
  std::string national;
  if (international) {
    std::size_t code_len = 0;
    plan = PlanOfInternational(digits, code_len);
    if (plan == nullptr) return Invalid("phone: unknown country code");
    national = digits.substr(code_len);
  } else {
    if (home == nullptr) {
      return Invalid("phone: give the number with + and country code (the store's country dialling rules are unknown)");
    }
    plan = home;
    national = digits;
    // Dialled with the country code but without + or 00 ("371 2911 2233" in Latvia): taken as
    // such when the number fits the plan only that way, or is too long otherwise.
    const std::string code = std::to_string(home->code);
    if (digits.size() > code.size() && digits.compare(0, code.size(), code) == 0) {
      std::string rest;
      phone_plan::StripPrefix(*home, std::string_view(digits).substr(code.size()), rest);
      if ((!phone_plan::MatchesWhole(*home, digits) && phone_plan::MatchesWhole(*home, rest)) ||
          TestLength(*home, digits.size()) == Length::kTooLong) {
        national = digits.substr(code.size());
      }
    }
  }
  // The national prefix ("0" in most of Europe, "1" in NANP) and carrier codes, as libphonenumber drops them.
  if (std::string rest; phone_plan::StripPrefix(*plan, national, rest)) {
    const Length l = TestLength(*plan, rest.size());
    if (l != Length::kTooShort && l != Length::kLocalOnly && l != Length::kInvalid) national = std::move(rest);
  }
  // Possible: the lengths of the calling code's main region, as libphonenumber's isPossibleNumber.
  const phone_plan::PlanRegion* main = phone_plan::ForCode(plan->code);
  const Length length = national.size() < 2 ? Length::kTooShort : TestLength(*main, national.size());
  // A length only dialled locally is a number of its own where a plan has it (Canada's 310-xxxx).
  if (length == Length::kLocalOnly && !phone_plan::FitsPlanOfCode(plan->code, national)) {
    return international ? Invalid("phone: give the area code too")
                         : Invalid("phone: give the area code too (a number in the store's country)");
  }
  if (length != Length::kPossible && length != Length::kLocalOnly) {
    return international ? Invalid("phone: wrong number of digits for its country code")
                         : Invalid("phone: wrong number of digits for a number in the store's country");
  }
  // Valid: a number one of the code's regions can have.
  if (!phone_plan::MatchesWhole(*plan, national) && !phone_plan::FitsPlanOfCode(plan->code, national)) {
    return international ? Invalid("phone: not a number its country's numbering plan has")
                         : Invalid("phone: not a number the store's country's numbering plan has");
  }
  PhoneNumber out;
  out.e164 = "+" + std::to_string(plan->code) + national;
  out.national = NationalNumberOf(out.e164);
  return out;
}

bool LooksInternational(std::string_view input) {
  bool international = false;
  std::string digits;
  return ScanPhone(input, international, digits) && international;
}

std::string_view PhonePlanVersion() { return phone_plan::Version(); }

std::string PhonePatternsThatDoNotCompile() { return phone_plan::PatternsThatDoNotCompile(); }

std::string PhoneSearchDigits(std::string_view query, std::string_view country) {
  bool international = false;
  std::string digits;
  if (!ScanPhone(query, international, digits) || digits.size() < 3) return {};
  if (international) return digits;
  if (const CountryDialling* c = FindCountry(country)) return StripTrunkPrefix(*c, std::move(digits));
  if (const auto* plan = phone_plan::ForRegion(country)) {
    if (std::string rest; phone_plan::StripPrefix(*plan, digits, rest)) return rest;
  }
  return digits;
}

std::string NationalQueryAsE164(std::string_view query, std::string_view country) {
  bool international = false;
  std::string digits;
  if (!ScanPhone(query, international, digits) || international || digits.size() < 3) return {};
  const auto* plan = phone_plan::ForRegion(country);
  if (plan == nullptr) return {};
  const std::string code = std::to_string(plan->code);
  const bool kept_nationally = std::any_of(kCountries.begin(), kCountries.end(),
                                           [&](const CountryDialling& c) { return code == c.code; });
  return kept_nationally ? std::string() : code + PhoneSearchDigits(query, country);
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

bool SplitNational(std::string_view e164, std::string& code, std::string& national) {
  code.clear();
  national.clear();
  if (e164.empty() || e164[0] != '+') return false;
  const std::string_view digits = e164.substr(1);
  const CountryDialling* c = CountryOfInternational(digits);
  if (c == nullptr) return false;
  code = c->code;
  national = digits.substr(code.size());
  return true;
}

bool IsKnownPhoneCountry(std::string_view country) { return phone_plan::ForRegion(country) != nullptr; }

}  // namespace kassa::model
