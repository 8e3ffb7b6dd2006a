#include "phone_plan.h"

#include <regex.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <mutex>
#include <vector>

namespace kassa::model::phone_plan {
namespace {

#include "phone_plan_data.inc"

constexpr std::size_t kRegions = std::size(kPlanRegions);

// A plan's pattern compiled on first use ("^(pattern)", with "$" for a
// whole match) and kept for the life of the process. regexec() may be
// called from many threads on one compiled pattern.
class Compiled {
 public:
  const regex_t* Get(const char* pattern, bool whole) {
    std::call_once(once_, [&] {
      const std::string text = std::string("^(") + pattern + (whole ? ")$" : ")");
      ok_ = regcomp(&re_, text.c_str(), REG_EXTENDED) == 0;
    });
    return ok_ ? &re_ : nullptr;
  }

 private:
  std::once_flag once_;
  regex_t re_{};
  bool ok_ = false;
};

std::array<Compiled, kRegions>& GeneralPatterns() {
  static std::array<Compiled, kRegions> compiled;
  return compiled;
}
std::array<Compiled, kRegions>& PrefixPatterns() {
  static std::array<Compiled, kRegions> compiled;
  return compiled;
}
std::array<Compiled, kRegions>& IntlPatterns() {
  static std::array<Compiled, kRegions> compiled;
  return compiled;
}

std::size_t IndexOf(const PlanRegion& r) { return static_cast<std::size_t>(&r - kPlanRegions); }

// Where `re` matches at the start of `text`: every group's span (empty when it does not match).
std::vector<regmatch_t> MatchAtStart(const regex_t& re, const std::string& text) {
  std::vector<regmatch_t> groups(re.re_nsub + 1);
  if (regexec(&re, text.c_str(), groups.size(), groups.data(), 0) != 0) groups.clear();
  return groups;
}

}  // namespace

const PlanRegion* ForRegion(std::string_view iso) {
  if (iso.size() != 2) return nullptr;
  const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  for (const auto& r : kPlanRegions) {
    if (r.region[0] != '\0' && r.region[0] == upper(iso[0]) && r.region[1] == upper(iso[1])) return &r;
  }
  return nullptr;
}

const PlanRegion* ForCode(unsigned code) {
  for (const auto& r : kPlanRegions) {
    if (r.code == code && r.main) return &r;
  }
  return nullptr;
}

bool MatchesWhole(const PlanRegion& r, std::string_view digits) {
  const regex_t* re = GeneralPatterns()[IndexOf(r)].Get(r.general, true);
  return re != nullptr && regexec(re, std::string(digits).c_str(), 0, nullptr, 0) == 0;
}

bool FitsPlanOfCode(unsigned code, std::string_view digits) {
  return std::any_of(std::begin(kPlanRegions), std::end(kPlanRegions),
                     [&](const PlanRegion& r) { return r.code == code && MatchesWhole(r, digits); });
}

bool StripPrefix(const PlanRegion& r, std::string_view digits, std::string& rest) {
  rest.assign(digits);
  if (digits.empty() || r.prefix_for_parsing[0] == '\0') return false;
  const regex_t* re = PrefixPatterns()[IndexOf(r)].Get(r.prefix_for_parsing, false);
  if (re == nullptr) return false;
  const std::string text(digits);
  const std::vector<regmatch_t> m = MatchAtStart(*re, text);
  if (m.empty()) return false;
  const auto end = static_cast<std::size_t>(m[0].rm_eo);
  std::string candidate;
  const bool transform = r.transform[0] != '\0' && r.last_group > 0 &&
                         static_cast<std::size_t>(r.last_group) < m.size() && m[static_cast<std::size_t>(r.last_group)].rm_so != -1;
  if (transform) {
    for (const char* t = r.transform; *t != '\0'; ++t) {
      if (*t == '\\' && t[1] >= '0' && t[1] <= '9') {
        const auto group = static_cast<std::size_t>(*++t - '0');
        if (group < m.size() && m[group].rm_so != -1) {
          candidate.append(text, static_cast<std::size_t>(m[group].rm_so),
                           static_cast<std::size_t>(m[group].rm_eo - m[group].rm_so));
        }
      } else {
        candidate += *t;
      }
    }
  }
  candidate.append(text, end);
  // A number that fits the plan as dialled is kept when removing the prefix would break it.
  if (MatchesWhole(r, text) && !MatchesWhole(r, candidate)) return false;
  rest = std::move(candidate);
  return true;
}

std::size_t IntlPrefixLength(const PlanRegion& r, std::string_view digits) {
  if (r.intl_prefix[0] == '\0') return 0;
  const regex_t* re = IntlPatterns()[IndexOf(r)].Get(r.intl_prefix, false);
  if (re == nullptr) return 0;
  const std::vector<regmatch_t> m = MatchAtStart(*re, std::string(digits));
  return m.empty() ? 0 : static_cast<std::size_t>(m[0].rm_eo);
}

std::string PatternsThatDoNotCompile() {
  std::string out;
  for (const auto& r : kPlanRegions) {
    const std::size_t i = IndexOf(r);
    const bool ok = GeneralPatterns()[i].Get(r.general, true) != nullptr &&
                    (r.prefix_for_parsing[0] == '\0' || PrefixPatterns()[i].Get(r.prefix_for_parsing, false) != nullptr) &&
                    (r.intl_prefix[0] == '\0' || IntlPatterns()[i].Get(r.intl_prefix, false) != nullptr);
    if (!ok) out += std::string(r.region[0] != '\0' ? r.region : "+") + std::to_string(r.code) + " ";
  }
  return out;
}

std::string_view Version() { return kPhonePlanVersion; }

}  // namespace kassa::model::phone_plan
