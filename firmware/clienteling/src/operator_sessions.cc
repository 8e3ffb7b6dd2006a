#include "kassa/clienteling/operator_sessions.h"

#include <algorithm>

#include "kassa/base/log.h"
#include "kassa/crypto/pin_hash.h"

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

Result<Caller> OperatorSessions::Start(const model::Operator& op, const model::ClientelingConfig& config) {
  const model::Role* role = config.FindRole(op.role);
  if (role == nullptr) return Status(StatusCode::kUnauthenticated, "operator: their role is not configured");
  KASSA_TRY_ASSIGN(const model::LocalId token, model::LocalId::Generate());
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used_ms < oldest->second.last_used_ms) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[token.ToHex()] = Session{op.worker_id, clock_.NowMs()};
  KASSA_LOG(kInfo) << "operator " << op.worker_id << " signed in (" << op.role << ")";
  return Caller{token.ToHex(), op, *role, config};
}

Result<Caller> OperatorSessions::SignInWithPin(std::string_view worker_id, std::string_view pin) {
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  if (worker_id.empty() || worker_id.size() > model::kMaxWorkerIdBytes) {
    return Status(StatusCode::kUnauthenticated, "pin: wrong worker id or PIN");
  }
  KASSA_TRY_ASSIGN(storage::PinFailures failures, lockouts_.LoadPinFailures(worker_id));
  const std::int64_t now = clock_.NowMs();
  if (failures.locked_until_ms > now) {
    if (failures.wrong == 0) {
      return Status(StatusCode::kUnauthenticated, "operator: locked out after too many wrong PINs; try again later");
    }
    return Status(StatusCode::kUnauthenticated, "operator: wait a moment after a wrong PIN, then try again");
  }
  if (!PinGuessAllowed(now)) {
    static LogThrottle throttle(std::chrono::seconds(10));
    if (std::uint64_t held = 0; throttle.Allow(held)) {
      KASSA_LOG(kWarning) << "sign-in throttled: too many wrong PINs on this terminal (" << held
                          << " more refusals since the last)";
    }
    return Status(StatusCode::kUnavailable, "pin: too many sign-in attempts on this terminal; try again in a few seconds");
  }
  const auto operator_here = StoreOperator(worker_id);
  if (!operator_here.ok() && operator_here.status().code() != StatusCode::kNotFound) return operator_here.status();
  const model::Operator* found = operator_here.ok() ? &*operator_here : nullptr;
  // The hash is computed even for an unknown worker (at the recommended
  // cost), so timing does not tell which ids exist.
  static const std::string kDecoy = "pbkdf2-sha256$" + std::to_string(crypto::kDefaultPinIterations) +
      "$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000";
  const bool known = found != nullptr && !found->pin_hash.empty();
  const bool right = crypto::VerifyPin(pin, known ? found->pin_hash : kDecoy) && known;
  if (!right) --pin_guesses_;  // a guess, whoever it was for
  if (!right && !known) return Status(StatusCode::kUnauthenticated, "pin: wrong worker id or PIN");
  if (!right) {
    // Counted durably (for operators of this store only: unknown ids write
    // nothing), so a restart lifts neither the slow-down nor the lockout.
    if (++failures.wrong >= config.max_pin_attempts) {
      failures = {0, now + std::int64_t{config.lockout_s} * 1000};
      KASSA_TRY(lockouts_.SavePinFailures(worker_id, failures));
      KASSA_LOG(kWarning) << "operator " << worker_id << " locked out for " << config.lockout_s << " s after "
                          << config.max_pin_attempts << " wrong PINs";
      return Status(StatusCode::kUnauthenticated, "operator: locked out after too many wrong PINs; try again later");
    }
    // 0 s after the first wrong PIN (a typo), then 1, 2, 4, ... s, at most 60.
    const std::int64_t wait_ms = failures.wrong < 2 ? 0 : std::int64_t{1000} << std::min<std::uint32_t>(failures.wrong - 2, 6);
    failures.locked_until_ms = now + std::min<std::int64_t>(wait_ms, 60000);
    KASSA_TRY(lockouts_.SavePinFailures(worker_id, failures));
    return Status(StatusCode::kUnauthenticated, "pin: wrong worker id or PIN");
  }
  if (failures.wrong != 0 || failures.locked_until_ms != 0) KASSA_TRY(lockouts_.SavePinFailures(worker_id, {}));
  return Start(*found, config);
}

bool OperatorSessions::PinGuessAllowed(std::int64_t now_ms) {
  if (now_ms > pin_guesses_at_ms_) {
    pin_guesses_ = std::min<double>(kPinBurst, pin_guesses_ + static_cast<double>(now_ms - pin_guesses_at_ms_) /
                                                                 static_cast<double>(kPinRefillMs));
    pin_guesses_at_ms_ = now_ms;
  }
  return pin_guesses_ >= 1.0;
}

Result<Caller> OperatorSessions::SignInWithBadge(std::string_view badge) {
  KASSA_TRY_ASSIGN(const model::ClientelingConfig config, Config());
  KASSA_TRY_ASSIGN(const auto operators, StoreOperators());
  for (const auto& op : operators) {
    if (!badge.empty() && op.badge == badge) return Start(op, config);
  }
  return Status(StatusCode::kUnauthenticated, "badge: not the badge of an operator of this store");
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
  const std::int64_t now = clock_.NowMs();
  if (now - it->second.last_used_ms > std::int64_t{config.idle_timeout_s} * 1000) {
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
  return Caller{std::string(token), std::move(*op), *role, config};
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

Result<std::vector<model::Operator>> OperatorSessions::StoreOperators() {
  KASSA_TRY_ASSIGN(auto all, clienteling_.Operators());
  std::vector<model::Operator> out;
  for (auto& op : all) {
    if (op.active && op.WorksIn(store_id_)) out.push_back(std::move(op));
  }
  return out;
}

}  // namespace kassa::clienteling
