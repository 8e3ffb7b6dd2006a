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
//   - The slow PIN hash is computed off the event loop: BeginPinSignIn
//     checks everything else and reserves a guess, the caller verifies on a
//     worker (PinVerifier), FinishPinSignIn records the outcome. One
//     verification per worker id at a time (a second is told to wait).
//   - Badges sign in only server-side: a sign-in screen opens a swipe ticket
//     (OpenSwipeTicket), the card reader's swipe (SignInWithBadge) completes
//     the newest open ticket, and the screen redeems it (RedeemSwipeTicket)
//     for its session. The badge number never leaves kassad, and the API
//     has no way to sign in with one.
//   - A session unused for `idle_timeout_s` is signed out; sign-out ends it.
//   - A kiosk session (StartKiosk, by a signed-in operator who may create
//     customers) is the self-service screen's: it may sign a customer up
//     and see back only the customers it created (the last
//     kMaxKioskCustomers); the API lets it do nothing else and sends it no
//     customer events. It does not idle out; its creations are recorded as
//     made by the operator who started it.
//
// Threading: not thread-safe; the service's io_context thread.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
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
  bool kiosk = false;                       // a kiosk session (see above)
  std::vector<std::string> kiosk_created;   // kiosk: ids (hex) of the customers it created
  bool Allows(model::Permission p) const { return role.Allows(p); }
  // Kiosk sessions see only their own customers; others see every one.
  bool MaySee(const model::LocalId& customer) const;
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
  // The whole sign-in on the calling thread (tests, and callers that may block).
  Result<Caller> SignInWithPin(std::string_view worker_id, std::string_view pin);

  // A PIN sign-in between its two halves: the hash to verify `pin`
  // against (a decoy of the same cost for an unknown worker id).
  struct PinAttempt {
    std::string worker_id;
    std::string pin;
    std::string hash;
    std::optional<model::Operator> op;  // nullopt: unknown here
  };
  // Every check but the hash; reserves one guess of the throttle.
  // Returns: kOk; the refusals of SignInWithPin (wrong worker id syntax,
  // waiting, locked out, throttled, no clienteling yet), and "operator:
  // wait ..." while another attempt for the same worker id is verifying.
  Result<PinAttempt> BeginPinSignIn(std::string_view worker_id, std::string_view pin);
  // Records whether the PIN was `right`; returns what SignInWithPin returns.
  Result<Caller> FinishPinSignIn(const PinAttempt& attempt, bool right);

  // The terminal-wide throttle: a burst of wrong PINs, then one per interval.
  static constexpr int kPinBurst = 10;
  static constexpr std::int64_t kPinRefillMs = 2000;

  // Swipe tickets: at most kMaxSwipeTickets open, each for kSwipeTicketMs.
  static constexpr std::size_t kMaxSwipeTickets = 8;
  static constexpr std::int64_t kSwipeTicketMs = 120'000;
  // A new ticket (32 hex digits) for a sign-in screen.
  // Returns: kOk; kUnavailable when no randomness.
  Result<std::string> OpenSwipeTicket();
  // The card reader's badge swipe: completes the newest open ticket.
  // Returns: kOk with the operator's name; kUnauthenticated "badge: ..."
  // for a badge of no active operator here; kFailedPrecondition "badge: no
  // sign-in screen is waiting" without an open ticket.
  Result<std::string> SignInWithBadge(std::string_view badge);
  // Returns: kOk with the session of the swipe that completed `ticket`
  // (once); kUnauthenticated "ticket: ..." when unknown, expired, or no
  // badge was swiped for it yet.
  Result<Caller> RedeemSwipeTicket(std::string_view ticket);

  void SignOut(std::string_view token);

  // Kiosk sessions: at most this many customers are shown back.
  static constexpr std::size_t kMaxKioskCustomers = 8;
  // A kiosk session started by `by`. Returns: kOk; kPermissionDenied
  // "permission: ..." when `by` may not create customers or is a kiosk.
  Result<Caller> StartKiosk(const Caller& by);
  // Records that the kiosk session `token` created `customer`.
  void KioskCreated(std::string_view token, const model::LocalId& customer);

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
  // The associates whose books this store keeps although they no longer
  // work here: deactivated while here, or moved to other stores
  // (model::Operator::LeftBookIn).
  Result<std::vector<model::Operator>> DepartedOperators();
  // An owner of a book this store keeps: an active operator of this store
  // or a departed one.
  // Returns: kOk; kNotFound "owner: not an associate whose book this store keeps".
  Result<model::Operator> BookOwner(std::string_view worker_id);
  const std::string& store_id() const { return store_id_; }

  // Since the process started, for metrics: PINs found wrong (known or
  // unknown worker id), and operators locked out by them.
  std::uint64_t wrong_pins() const { return wrong_pins_; }
  std::uint64_t lockouts_begun() const { return lockouts_begun_; }

 private:
  // Every duration here is measured on the monotonic clock (Clock::
  // MonotonicMs): a wall-clock jump neither signs anyone out nor lifts or
  // stretches a lockout.
  struct Session {
    std::string worker_id;
    std::int64_t last_used_ms = 0;  // monotonic
    bool kiosk = false;
    std::vector<std::string> created;  // kiosk: newest last, at most kMaxKioskCustomers
  };
  struct SwipeTicket {
    std::int64_t opened_ms = 0;  // monotonic
    std::string worker_id;  // empty until a badge is swiped for it
  };
  Result<Caller> Start(const model::Operator& op, const model::ClientelingConfig& config, bool kiosk = false);
  // Whether the terminal-wide throttle has room for one more wrong PIN.
  bool PinGuessAllowed(std::int64_t monotonic_ms);
  // Whether the lockout or slow-down in `failures` still runs: on the boot
  // clock when it was set during this boot, else on the wall clock.
  bool StillLocked(const storage::PinFailures& failures);
  // `failures` locked for `duration_ms` from now, on both clocks.
  void LockFor(storage::PinFailures& failures, std::int64_t duration_ms);
  Result<model::ClientelingConfig> Config();

  storage::ClientelingTable& clienteling_;
  storage::OperatorLockouts& lockouts_;
  Clock& clock_;
  std::string store_id_;
  std::map<std::string, Session, std::less<>> sessions_;    // token -> session
  std::map<std::string, SwipeTicket, std::less<>> tickets_; // ticket -> swipe
  std::set<std::string, std::less<>> verifying_;            // worker ids whose PIN is being verified
  double pin_guesses_ = kPinBurst;                          // wrong PINs the throttle still allows
  std::int64_t pin_guesses_at_ms_ = 0;                      // when they were counted (monotonic)
  std::uint64_t wrong_pins_ = 0;
  std::uint64_t lockouts_begun_ = 0;
};

}  // namespace kassa::clienteling
