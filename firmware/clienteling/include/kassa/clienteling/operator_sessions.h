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
//   - `max_pin_attempts` wrong PINs in a row lock the operator out for
//     `lockout_s`; a right PIN during the lockout is refused too.
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
  // locked out ..."; kFailedPrecondition "clienteling: ..." when
  // headquarters has not configured clienteling here yet.
  Result<Caller> SignInWithPin(std::string_view worker_id, std::string_view pin);
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
  Result<model::ClientelingConfig> Config();

  storage::ClientelingTable& clienteling_;
  storage::OperatorLockouts& lockouts_;
  Clock& clock_;
  std::string store_id_;
  std::map<std::string, Session, std::less<>> sessions_;    // token -> session
};

}  // namespace kassa::clienteling
