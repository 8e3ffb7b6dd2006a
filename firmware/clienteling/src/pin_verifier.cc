#include "kassa/clienteling/pin_verifier.h"

#include <boost/asio/post.hpp>

#include "kassa/crypto/pin_hash.h"

namespace kassa::clienteling {

PinVerifier::~PinVerifier() { worker_.join(); }

void PinVerifier::Verify(std::string pin, std::string hash, boost::asio::any_io_executor home,
                         std::function<void(bool)> done) {
  boost::asio::post(worker_, [pin = std::move(pin), hash = std::move(hash), home, done = std::move(done)]() mutable {
    const bool right = crypto::VerifyPin(pin, hash);
    std::fill(pin.begin(), pin.end(), '\0');
    boost::asio::post(home, [right, done = std::move(done)] { done(right); });
  });
}

}  // namespace kassa::clienteling
