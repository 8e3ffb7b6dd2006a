#pragma once

// PinVerifier: the slow PIN hash (PBKDF2, up to 1,000,000 rounds) on a
// worker thread of its own, so that a sign-in never stalls the event loop
// that serves the API, the link and the devices. One thread: sign-ins wait
// for each other, never for the rest of kassad.
//
// Threading: Verify from the event loop; `done` runs on `home`. The
// destructor waits for the hash in progress.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

namespace kassa::clienteling {

class PinVerifier {
 public:
  PinVerifier() = default;
  ~PinVerifier();
  PinVerifier(const PinVerifier&) = delete;
  PinVerifier& operator=(const PinVerifier&) = delete;

  // Runs crypto::VerifyPin(pin, hash) on the worker, then done(right) on `home`.
  void Verify(std::string pin, std::string hash, boost::asio::any_io_executor home, std::function<void(bool)> done);

 private:
  boost::asio::thread_pool worker_{1};
};

}  // namespace kassa::clienteling
