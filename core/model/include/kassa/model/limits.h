#pragma once

// Size limits of every customer field, in UTF-8 bytes or element counts.
//
// These are the single source of truth: proto/kassa/link/v1/*.options carries
// the same bounds (string max_size = limit + 1 for nanopb's terminator), and
// proto/codec static_asserts that the generated structs agree, so the UI, the
// validator, the disk record and the wire can never disagree.

#include <cstddef>

namespace kassa::model {

inline constexpr std::uint32_t kMaxLockAfterOfflineDays = 365;  // StoreConfig::lock_after_offline_days
inline constexpr std::size_t kMaxPersonNameBytes = 64;    // first or last name
inline constexpr std::size_t kMaxOrgNameBytes = 100;      // organization name
inline constexpr std::size_t kMaxEmailBytes = 254;        // RFC 5321 path limit
inline constexpr std::size_t kMaxPhoneBytes = 16;         // '+' and 15 E.164 digits
inline constexpr std::size_t kMaxAccountBytes = 20;       // headquarters number format
inline constexpr std::size_t kMaxGroupIdBytes = 20;       // customer group id
inline constexpr std::size_t kMaxCurrencyBytes = 3;       // ISO 4217
inline constexpr std::size_t kMaxLanguageBytes = 12;      // BCP 47 tag, e.g. "zh-Hans-CN"
inline constexpr std::size_t kMaxAffiliationBytes = 32;
inline constexpr std::size_t kMaxAffiliations = 8;
inline constexpr std::size_t kMaxAttributeNameBytes = 32;
inline constexpr std::size_t kMaxAttributeValueBytes = 100;
inline constexpr std::size_t kMaxAttributes = 16;
inline constexpr std::size_t kMaxLoyaltyCardBytes = 32;
inline constexpr std::size_t kMaxLoyaltyCards = 4;
inline constexpr std::size_t kMaxSecondaryContacts = 5;  // of each kind, email and phone
inline constexpr std::size_t kMaxAddresses = 5;
inline constexpr std::size_t kMaxStreetBytes = 100;
inline constexpr std::size_t kMaxCityBytes = 60;
inline constexpr std::size_t kMaxPostalCodeBytes = 16;
inline constexpr std::size_t kMaxRegionBytes = 60;
inline constexpr std::size_t kMaxCountryBytes = 2;        // ISO 3166-1 alpha-2
inline constexpr std::size_t kMaxContactNameBytes = 100;
inline constexpr std::size_t kMaxOperatorIdBytes = 32;
inline constexpr std::size_t kMaxTerminalIdBytes = 32;
inline constexpr std::size_t kMaxConsentTextVersionBytes = 32;
inline constexpr std::size_t kMaxStoreIdBytes = 32;
inline constexpr std::size_t kMaxLegalEntityBytes = 32;
inline constexpr std::size_t kMaxGroupNameBytes = 60;
inline constexpr std::size_t kMaxCustomerGroups = 32;
inline constexpr std::size_t kMaxFinancialDimensions = 4;  // name/value pairs of a customer group
inline constexpr std::size_t kMaxReasonBytes = 160;       // a rejection's "field: message"
inline constexpr std::size_t kMaxSearchQueryBytes = 256;
inline constexpr std::size_t kMaxBatchOperations = 64;    // operations per upload frame
inline constexpr std::size_t kMaxDistributionChanges = 64;  // changes per distribution frame
inline constexpr std::size_t kMaxSearchResults = 100;
inline constexpr std::size_t kMaxAccessEvents = 128;      // access events per frame
inline constexpr std::size_t kLocalIdBytes = 16;          // 128-bit temporary id

}  // namespace kassa::model
