#include "kassa/model/store_config.h"

#include <set>

#include "kassa/model/email.h"
#include "kassa/model/limits.h"
#include "kassa/model/phone.h"

namespace kassa::model {
namespace {
constexpr Status Invalid(const char* detail) { return Status(StatusCode::kInvalidArgument, detail); }
bool IsCountryCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}
}  // namespace

bool HasCustomerGroup(const StoreConfig& config, std::string_view group_id) {
  for (const auto& g : config.customer_groups) {
    if (g.id == group_id) return true;
  }
  return false;
}

std::vector<std::string> StoreConfigWarnings(const StoreConfig& config) {
  std::vector<std::string> warnings;
  if (!config.default_customer.receipt_email.empty()) {
    warnings.push_back("store " + config.store_id + ": default_customer.receipt_email is " +
                       config.default_customer.receipt_email +
                       ": every new customer who gives no receipt email inherits it, so their receipts (names, "
                       "purchases) go to that address; leave it empty unless every customer's receipts really "
                       "belong there");
  }
  return warnings;
}

Status ValidateStoreConfig(const StoreConfig& config) {
  if (config.store_id.empty() || config.store_id.size() > kMaxStoreIdBytes) {
    return Invalid("store_id: required, at most 32 bytes");
  }
  if (config.legal_entity.empty() || config.legal_entity.size() > kMaxLegalEntityBytes) {
    return Invalid("legal_entity: required, at most 32 bytes");
  }
  if (!IsCountryCode(config.operating_unit_country)) {
    return Invalid("operating_unit_country: not a two-letter ISO country code (upper case)");
  }
  if (!IsKnownPhoneCountry(config.operating_unit_country)) {
    return Invalid("operating_unit_country: kassa has no phone numbering rules for this country");
  }
  if (config.customer_groups.empty()) return Invalid("customer_groups: at least one group is needed");
  if (config.customer_groups.size() > kMaxCustomerGroups) return Invalid("customer_groups: more than 32");
  std::set<std::string> ids;
  for (const auto& g : config.customer_groups) {
    if (g.id.empty() || g.id.size() > kMaxGroupIdBytes) return Invalid("customer_groups.id: required, at most 20 bytes");
    if (g.name.size() > kMaxGroupNameBytes) return Invalid("customer_groups.name: longer than 60 bytes");
    if (!ids.insert(g.id).second) return Invalid("customer_groups.id: listed twice");
  }
  const DefaultCustomer& d = config.default_customer;
  if (d.account.empty() || d.account.size() > kMaxAccountBytes) {
    return Invalid("default_customer.account: required, at most 20 bytes");
  }
  if (!HasCustomerGroup(config, d.customer_group)) {
    return Invalid("default_customer.customer_group: not one of customer_groups");
  }
  if (!d.receipt_email.empty() && !IsValidEmail(d.receipt_email)) {
    return Invalid("default_customer.receipt_email: not an email address");
  }
  if (d.currency.size() != kMaxCurrencyBytes) return Invalid("default_customer.currency: not a three-letter ISO 4217 code");
  if (d.language.empty() || d.language.size() > kMaxLanguageBytes) return Invalid("default_customer.language: required, at most 12 bytes");
  if (d.affiliations.size() > kMaxAffiliations) return Invalid("default_customer.affiliations: more than 8");
  if (config.lock_after_offline_days > kMaxLockAfterOfflineDays) {
    return Invalid("lock_after_offline_days: at most 365 (0: never lock)");
  }
  return Status::Ok();
}

}  // namespace kassa::model
