// kassa_phone_check: kassa's phone normalization, one number a line, for
// tests/model/phone_plan_test.py to hold against libphonenumber itself.
//
// stdin:  COUNTRY<TAB>INPUT per line (COUNTRY the store's, ISO 3166-1)
// stdout: "ok<TAB>+E164" or "refused<TAB>MESSAGE" per line, in order;
//         first line "plans<TAB>VERSION<TAB>PATTERNS-THAT-DO-NOT-COMPILE".

#include <iostream>
#include <string>

#include "kassa/model/phone.h"

int main() {
  std::cout << "plans\t" << kassa::model::PhonePlanVersion() << '\t' << kassa::model::PhonePatternsThatDoNotCompile() << '\n';
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      std::cout << "refused\tno tab\n";
      continue;
    }
    const auto phone = kassa::model::NormalizePhone(std::string_view(line).substr(tab + 1), std::string_view(line).substr(0, tab));
    if (phone.ok()) std::cout << "ok\t" << phone->e164 << '\n';
    else std::cout << "refused\t" << phone.status().message() << '\n';
  }
  return 0;
}
