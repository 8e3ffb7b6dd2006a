#pragma once

// A headquarters without a link, for tests of what sits on top of one
// (customers::Headquarters): online or not as the test sets, real-time
// creates answered as the test says.

#include <optional>
#include <vector>

#include "kassa/customers/headquarters.h"

namespace kassa::testing {

// A headquarters that answers real-time creates as the test says.
class FakeHeadquarters final : public customers::Headquarters {
 public:
  bool is_online = true;
  std::optional<Result<model::OperationAck>> answer;  // nullopt: echo an applied ack
  std::vector<model::Operation> received;
  int outbox_changes = 0;
  std::vector<model::Customer> chain;  // what a chain search finds

  bool online() const override { return is_online; }
  void ApplyNow(const model::Operation& op, AckCallback done) override {
    received.push_back(op);
    if (answer) return done(*answer);
    model::OperationAck ack;
    ack.op_id = op.op_id;
    ack.customer_id = op.customer.id;
    ack.account = "LV00000077";
    ack.version = 1;
    done(ack);
  }
  void OutboxChanged() override { ++outbox_changes; }
  void SyncNow() override {}
  void SearchChain(const std::string&, std::size_t, SearchCallback done) override { done(chain); }
  customers::LinkState state() const override { return {}; }
};

}  // namespace kassa::testing
