#include "kassa/clienteling/operator_sessions.h"

#include <algorithm>

#include "kassa/base/log.h"
#include "kassa/crypto/pin_hash.h"
#include "kassa/crypto/sha256.h"

namespace kassa::clienteling {

namespace {
// Sessions kept at most; the oldest idle one gives way (a kiosk left signing in).
constexpr std::size_t kMaxSessions = 64;
}  // namespace

OperatorSessions::OperatorSessions(storage::ClientelingTable& clienteling, storage::OperatorLockouts& lockouts,
                                   Clock& clock, std::string store_id)
    : clienteling_(clienteling), lockouts_(lockouts), clock_(clock), store_id_(std::move(store_id)) {}

Result<model::ClientelingConfig> OperatorSessions::Config() {
  KASSA_TRY_ASSIGN(auto config, clienteling_.LoadClientelingConfig());
  if (!config) {
    return Status(StatusCode::kFailedPrecondition,
                  "clienteling: no operators yet; headquarters has not configured this terminal's legal entity");
  }
  return std::move(*config);
}

bool Caller::MaySee(const model::LocalId& customer) const {
  return !kiosk || std::find(kiosk_created.begin(), kiosk_created.end(), customer.ToHex()) != kiosk_created.end();
}

Result<Caller> OperatorSessions::Start(const model::Operator& op, const model::ClientelingConfig& config, bool kiosk) {
  const model::Role* role = config.FindRole(op.role);
  if (role == nullptr) return Status(StatusCode::kUnauthenticated, "operator: their role is not configured");
  KASSA_TRY_ASSIGN(const model::LocalId token, model::LocalId::Random());
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used_ms < oldest->second.last_used_ms) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[token.ToHex()] = Session{op.worker_id, clock_.MonotonicMs(), kiosk, {}};
  KASSA_LOG(kInfo) << "operator " << op.worker_id << (kiosk ? " started a kiosk session" : " signed in") << " ("
                   << op.role << ")";
  return Caller{token.ToHex(), op, *role, config, kiosk, {}};
}

Result<Caller> OperatorSessions::SignInWithPin(std::string_view worker_id, std::string_view pin) {
  KASSA_TRY_ASSIGN(const PinAttempt attempt, BeginPinSignIn(worker_id, pin));
  return FinishPinSignIn(attempt, crypto::VerifyPin(attempt.pin, attempt.hash));
}

Result<OperatorSessions::PinAttempt> OperatorSessions::BeginPinSignIn(std::string_view worker_id,
                                                                       std::string_view pin) {
  KASSA_TRY(Config().status());
  if (worker_id.empty() || worker_id.size() > model::kMaxWorkerIdBytes) {
    return Status(StatusCode::kUnauthenticated, "pin: wrong worker id or PIN");
  }
  KASSA_TRY_ASSIGN(const storage::PinFailures failures, lockouts_.LoadPinFailures(worker_id));
  if (StillLocked(failures)) {
    if (failures.wrong == 0) {
      return Status(StatusCode::kUnauthenticated, "operator: locked out after too many wrong PINs; try again later");
    }
    return Status(StatusCode::kUnauthenticated, "operator: wait a moment after a wrong PIN, then try again");
  }
  if (verifying_.contains(worker_id)) {
    return Status(StatusCode::kUnauthenticated, "operator: wait a moment after a wrong PIN, then try again");
  }
  if (!PinGuessAllowed(clock_.MonotonicMs())) {
    KASSA_LOG_THROTTLED("sign-in throttled: too many wrong PINs on this terminal");
    return Status(StatusCode::kUnavailable, "pin: too many sign-in attempts on this terminal; try again in a few seconds");
  }
  auto operator_here = StoreOperator(worker_id);
  if (!operator_here.ok() && operator_here.status().code() != StatusCode::kNotFound) return operator_here.status();
  PinAttempt attempt{std::string(worker_id), std::string(pin), "", std::nullopt};
  if (operator_here.ok() && !operator_here->pin_hash.empty()) attempt.op = std::move(*operator_here);
  // The hash is computed even for an unknown worker (at the recommended
  // cost), so timing does not tell which ids exist.
  static const std::string kDecoy = "pbkdf2-sha256$" + std::to_string(crypto::kDefaultPinIterations) +
      "$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000";
  attempt.hash = attempt.op ? attempt.op->pin_hash : kDecoy;
  --pin_guesses_;  // reserved; a right PIN gives it back
  verifying_.insert(attempt.worker_id);
  return attempt;
}

Result<Caller> OperatorSessions::FinishPinSignIn(const PinAttempt& attempt, bool right) {
  verifying_.erase(attempt.worker_id);
  right = right && attempt.op.has_value();
  if (right) pin_guesses_ += 1;
  if (!right) ++wrong_pins_;
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  if (!right && !attempt.op) return Status(StatusCode::kUnauthenticated, "pin: wrong worker id or PIN");
  KASSA_TRY_ASSIGN(storage::PinFailures failures, lockouts_.LoadPinFailures(attempt.worker_id));
  if (!right) {
    // Counted durably (for operators of this store only: unknown ids write
    // nothing), so a restart lifts neither the slow-down nor the lockout.
    if (++failures.wrong >= config.max_pin_attempts) {
      failures = {};
      LockFor(failures, std::int64_t{config.lockout_s} * 1000);
      KASSA_TRY(lockouts_.SavePinFailures(attempt.worker_id, failures));
      ++lockouts_begun_;
      KASSA_LOG(kWarning) << "operator " << attempt.worker_id << " locked out for " << config.lockout_s << " s after "
                          << config.max_pin_attempts << " wrong PINs";
      return Status(StatusCode::kUnauthenticated, "operator: locked out after too many wrong PINs; try again later");
    }
    // 0 s after the first wrong PIN (a typo), then 1, 2, 4, ... s, at most 60.
    const std::int64_t wait_ms = failures.wrong < 2 ? 0 : std::int64_t{1000} << std::min<std::uint32_t>(failures.wrong - 2, 6);
    LockFor(failures, std::min<std::int64_t>(wait_ms, 60000));
    KASSA_TRY(lockouts_.SavePinFailures(attempt.worker_id, failures));
    return Status(StatusCode::kUnauthenticated, "pin: wrong worker id or PIN");
  }
  // The operator may have been deactivated or moved while the hash ran.
  KASSA_TRY_ASSIGN(const model::Operator op, StoreOperator(attempt.worker_id));
  if (failures.wrong != 0 || failures.locked_until_ms != 0 || failures.locked_until_boot_ms != 0) {
    KASSA_TRY(lockouts_.SavePinFailures(attempt.worker_id, {}));
  }
  return Start(op, config);
}

bool OperatorSessions::StillLocked(const storage::PinFailures& failures) {
  if (!failures.boot_id.empty() && failures.boot_id == clock_.BootId()) {
    return clock_.MonotonicMs() < failures.locked_until_boot_ms;
  }
  return clock_.NowMs() < failures.locked_until_ms;
}

void OperatorSessions::LockFor(storage::PinFailures& failures, std::int64_t duration_ms) {
  failures.locked_until_ms = clock_.NowMs() + duration_ms;
  failures.locked_until_boot_ms = clock_.MonotonicMs() + duration_ms;
  failures.boot_id = clock_.BootId();
}

Result<std::string> OperatorSessions::OpenSwipeTicket() {
  const std::int64_t now = clock_.MonotonicMs();
  std::erase_if(tickets_, [&](const auto& t) { return now - t.second.opened_ms > kSwipeTicketMs; });
  while (tickets_.size() >= kMaxSwipeTickets) {
    auto oldest = std::min_element(tickets_.begin(), tickets_.end(), [](const auto& a, const auto& b) {
      return a.second.opened_ms < b.second.opened_ms;
    });
    tickets_.erase(oldest);
  }
  KASSA_TRY_ASSIGN(const model::LocalId ticket, model::LocalId::Random());
  tickets_[ticket.ToHex()] = SwipeTicket{now, ""};
  return ticket.ToHex();
}

Result<std::string> OperatorSessions::SignInWithBadge(std::string_view badge) {
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  KASSA_TRY_ASSIGN(const auto operators, StoreOperators());
  // One keyed hash per swipe, compared with each operator's: headquarters
  // distributes badges only as these. Plaintext badges exist only in a
  // terminal's own --clienteling file, before headquarters was reached.
  const std::string hmac = config.badge_key.empty() ? std::string() : crypto::BadgeHmac(config.badge_key, badge);
  const model::Operator* found = nullptr;
  for (const auto& op : operators) {
    if (badge.empty()) break;
    const bool by_hmac = !hmac.empty() && !op.badge_hmac.empty() &&
                         crypto::ConstantTimeEqual(AsBytes(op.badge_hmac), AsBytes(hmac));
    const bool by_plaintext = !op.badge.empty() && crypto::ConstantTimeEqual(AsBytes(op.badge), AsBytes(badge));
    if (by_hmac || by_plaintext) found = &op;
  }
  if (found == nullptr) return Status(StatusCode::kUnauthenticated, "badge: not the badge of an operator of this store");
  const std::int64_t now = clock_.MonotonicMs();
  SwipeTicket* newest = nullptr;
  for (auto& [id, t] : tickets_) {
    if (t.worker_id.empty() && now - t.opened_ms <= kSwipeTicketMs && (newest == nullptr || t.opened_ms >= newest->opened_ms)) {
      newest = &t;
    }
  }
  if (newest == nullptr) return Status(StatusCode::kFailedPrecondition, "badge: no sign-in screen is waiting");
  newest->worker_id = found->worker_id;
  KASSA_LOG(kInfo) << "operator " << found->worker_id << " swiped their badge";
  return found->name;
}

Result<Caller> OperatorSessions::RedeemSwipeTicket(std::string_view ticket) {
  const auto it = tickets_.find(ticket);
  const std::int64_t now = clock_.MonotonicMs();
  if (it == tickets_.end() || now - it->second.opened_ms > kSwipeTicketMs) {
    if (it != tickets_.end()) tickets_.erase(it);
    return Status(StatusCode::kUnauthenticated, "ticket: unknown or expired; open the sign-in screen again");
  }
  if (it->second.worker_id.empty()) return Status(StatusCode::kUnauthenticated, "ticket: no badge swiped yet");
  const std::string worker_id = it->second.worker_id;
  tickets_.erase(it);
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  auto op = StoreOperator(worker_id);
  if (!op.ok()) return Status(StatusCode::kUnauthenticated, "badge: not the badge of an operator of this store");
  return Start(*op, config);
}

bool OperatorSessions::PinGuessAllowed(std::int64_t monotonic_ms) {
  if (monotonic_ms > pin_guesses_at_ms_) {
    pin_guesses_ = std::min<double>(kPinBurst, pin_guesses_ + static_cast<double>(monotonic_ms - pin_guesses_at_ms_) /
                                                                 static_cast<double>(kPinRefillMs));
    pin_guesses_at_ms_ = monotonic_ms;
  }
  return pin_guesses_ >= 1.0;
}

void OperatorSessions::SignOut(std::string_view token) {
  const auto it = sessions_.find(token);
  if (it == sessions_.end()) return;
  KASSA_LOG(kInfo) << "operator " << it->second.worker_id << " signed out";
  sessions_.erase(it);
}

Result<Caller> OperatorSessions::Authenticate(std::string_view token) {
  const auto it = sessions_.find(token);
  if (it == sessions_.end()) return Status(StatusCode::kUnauthenticated, "session: sign in first");
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  const std::int64_t now = clock_.MonotonicMs();
  if (!it->second.kiosk && now - it->second.last_used_ms > std::int64_t{config.idle_timeout_s} * 1000) {
    KASSA_LOG(kInfo) << "operator " << it->second.worker_id << " signed out after " << config.idle_timeout_s << " s idle";
    sessions_.erase(it);
    return Status(StatusCode::kUnauthenticated, "session: signed out after being idle; sign in again");
  }
  auto op = StoreOperator(it->second.worker_id);
  const model::Role* role = op.ok() ? config.FindRole(op->role) : nullptr;
  if (role == nullptr) {
    if (!op.ok() && op.status().code() != StatusCode::kNotFound) return op.status();
    sessions_.erase(it);
    return Status(StatusCode::kUnauthenticated, "session: the operator is no longer active here");
  }
  it->second.last_used_ms = now;
  return Caller{std::string(token), std::move(*op), *role, config, it->second.kiosk, it->second.created};
}

Result<Caller> OperatorSessions::StartKiosk(const Caller& by) {
  if (by.kiosk || !by.Allows(model::Permission::kCreateCustomer)) {
    return Status(StatusCode::kPermissionDenied, "permission: a kiosk is started by an operator who may create customers");
  }
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  return Start(by.op, config, /*kiosk=*/true);
}

void OperatorSessions::KioskCreated(std::string_view token, const model::LocalId& customer) {
  const auto it = sessions_.find(token);
  if (it == sessions_.end() || !it->second.kiosk) return;
  auto& created = it->second.created;
  created.push_back(customer.ToHex());
  if (created.size() > kMaxKioskCustomers) created.erase(created.begin());
}

Status OperatorSessions::Require(const Caller& caller, model::Permission p) {
  if (caller.Allows(p)) return Status::Ok();
  return Status(StatusCode::kPermissionDenied, "permission: the operator's role does not allow this");
}

Result<model::Operator> OperatorSessions::StoreOperator(std::string_view worker_id) {
  KASSA_TRY_ASSIGN(auto op, clienteling_.FindOperator(worker_id));
  if (!op || !op->active || !op->WorksIn(store_id_)) {
    return Status(StatusCode::kNotFound, "owner: not an active operator of this store");
  }
  return std::move(*op);
}

Result<std::vector<model::Operator>> OperatorSessions::DepartedOperators() {
  KASSA_TRY_ASSIGN(auto all, clienteling_.Operators());
  std::erase_if(all, [&](const model::Operator& op) { return !op.LeftBookIn(store_id_); });
  return all;
}

Result<model::Operator> OperatorSessions::BookOwner(std::string_view worker_id) {
  KASSA_TRY_ASSIGN(auto op, clienteling_.FindOperator(worker_id));
  if (!op || !((op->active && op->WorksIn(store_id_)) || op->LeftBookIn(store_id_))) {
    return Status(StatusCode::kNotFound, "owner: not an associate whose book this store keeps");
  }
  return std::move(*op);
}

Result<std::vector<model::Operator>> OperatorSessions::StoreOperators() {
  KASSA_TRY_ASSIGN(auto all, clienteling_.Operators());
  std::vector<model::Operator> out;
  for (auto& op : all) {
    if (op.active && op.WorksIn(store_id_)) out.push_back(std::move(op));
  }
  return out;
}

}  // namespace kassa::clienteling
