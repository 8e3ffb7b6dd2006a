#pragma once

// The device's secret: 32 random bytes created once per terminal, for the
// encryption of customer data at rest (a later issue). A 0600 file on Linux,
// memory in the sim.

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::hal {

class KeyStore {
 public:
  static constexpr std::size_t kSecretBytes = 32;
  virtual ~KeyStore() = default;

  // The secret, created on first use.
  // Returns: kOk; kUnavailable when it can be neither read nor created;
  // kDataLoss when the stored secret is damaged (wrong size, wrong mode).
  Result<Bytes> DeviceSecret() { return DoDeviceSecret(); }

 private:
  virtual Result<Bytes> DoDeviceSecret() = 0;
};

}  // namespace kassa::hal
