#pragma once

// OperatorSessions: who is signed in on this terminal (SPEC "Privacy and
// security"). Operators and their roles come from headquarters through the
// store (ClientelingTable::Operators, LoadClientelingConfig); every check reads
// them afresh, so a role changed or an operator deactivated at headquarters
// takes effect with the next call.
//
//   - Sign-in by worker id and PIN (verified against the slow salted hash),
//     or by badge (the card reader's badge swipe). Only active operators of
//     this store.
//   - Wrong PINs slow the operator down: after the k-th wrong PIN in a row
//     (k >= 2) the next attempt waits 2^(k-2) s (1, 2, 4, ... at most 60);
//     `max_pin_attempts` wrong PINs in a row lock the operator out for
//     `lockout_s`. A right PIN while waiting or locked out is refused too,
//     without the hash being computed. Kept in the store across restarts.
//   - A terminal-wide throttle, not a lockout: at most kPinBurst wrong PINs
//     at once and one more every kPinRefillMs, whoever they are for (unknown
//     worker ids too); past it every PIN sign-in is refused until the
//     throttle refills, so guessing across all operators is bounded while
//     nobody can lock anybody out for more than a few seconds. Right PINs do
//     not count.
//   - A session unused for `idle_timeout_s` is signed out; sign-out ends it.
//
// Threading: not thread-safe; the service's io_context thread.

#include <cstdint>
#include <map>
#include <string>

#include "kassa/base/status.h"
#include "kassa/base/clock.h"
#include "kassa/model/clienteling.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::clienteling {

// A signed-in operator as one call sees them.
struct Caller {
  std::string token;
  model::Operator op;
  model::Role role;
  model::ClientelingConfig config;
  bool Allows(model::Permission p) const { return role.Allows(p); }
};

class OperatorSessions {
 public:
  // REQUIRES: the references outlive the sessions.
  OperatorSessions(storage::ClientelingTable& clienteling, storage::OperatorLockouts& lockouts, Clock& clock,
                   std::string store_id);

  // Returns: kOk with the new session; kUnauthenticated "pin: ..." (wrong
  // worker id or PIN: one message for both), "badge: ...", or "operator:
  // ..." (waiting after wrong PINs, or locked out); kUnavailable "pin: ..."
  // when the terminal-wide throttle is empty; kFailedPrecondition
  // "clienteling: ..." when headquarters has not configured clienteling here
  // yet.
  Result<Caller> SignInWithPin(std::string_view worker_id, std::string_view pin);

  // The terminal-wide throttle: a burst of wrong PINs, then one per interval.
  static constexpr int kPinBurst = 10;
  static constexpr std::int64_t kPinRefillMs = 2000;
  Result<Caller> SignInWithBadge(std::string_view badge);
  void SignOut(std::string_view token);

  // The caller of `token`, its idle timer restarted.
  // Returns: kUnauthenticated "session: ..." (none, signed out, idle, or the
  // operator is no longer active here).
  Result<Caller> Authenticate(std::string_view token);

  // Returns: kOk; kPermissionDenied "permission: ..." naming nothing else
  // (the router names the operation).
  static Status Require(const Caller& caller, model::Permission p);

  // The active operators of this store.
  Result<std::vector<model::Operator>> StoreOperators();
  // One active operator of this store.
  // Returns: kOk; kNotFound "owner: not an active operator of this store".
  Result<model::Operator> StoreOperator(std::string_view worker_id);

 private:
  struct Session {
    std::string worker_id;
    std::int64_t last_used_ms = 0;
  };
  Result<Caller> Start(const model::Operator& op, const model::ClientelingConfig& config);
  // Whether the terminal-wide throttle has room for one more wrong PIN.
  bool PinGuessAllowed(std::int64_t now_ms);
  Result<model::ClientelingConfig> Config();

  storage::ClientelingTable& clienteling_;
  storage::OperatorLockouts& lockouts_;
  Clock& clock_;
  std::string store_id_;
  std::map<std::string, Session, std::less<>> sessions_;    // token -> session
  double pin_guesses_ = kPinBurst;                          // wrong PINs the throttle still allows
  std::int64_t pin_guesses_at_ms_ = 0;                      // when they were counted
};

}  // namespace kassa::clienteling
