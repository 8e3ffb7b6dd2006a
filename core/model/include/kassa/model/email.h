#pragma once

// Email address checks (a practical subset of RFC 5322 addr-spec: what real
// mail servers accept and what associates type).

#include <string>
#include <string_view>

namespace kassa::model {

// True when `email` is local@domain with a dotted domain of valid labels.
bool IsValidEmail(std::string_view email);

// The search/identity form: lower-cased, trimmed.
std::string FoldEmail(std::string_view email);

}  // namespace kassa::model
