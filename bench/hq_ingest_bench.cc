// Headquarters' durable ingest with N concurrent terminals (issue 3,
// acceptance 5). Starts kassa-hq's registry and link server in-process on
// 127.0.0.1 over an LMDB store in a temp directory, connects N simulated
// terminals over real TCP with the real framing, and measures:
//   1. async upload: every terminal streams batches of operations, one batch
//      in flight, the next sent when its acknowledgements arrive;
//   2. real-time creates: every terminal sends one create at a time and waits
//      for the reply (sync mode).
// Every acknowledgement is sent only after headquarters' commit is durable.
// The simulated terminals do not acknowledge distribution frames, so
// headquarters sends each of them at most one: the figures are ingest, not
// distribution fan-out.
//
// usage: kassa_bench_hq_ingest [--quick] [--terminals N] [--ops N] [--realtime N] [--json FILE]

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "kassa/base/log.h"
#include "kassa/base/system_clock.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/link/frame_connection.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/storage/chain_store.h"

namespace {

// The link as the terminals use it, but with dead-peer detection at 30 s
// instead of 3.5 s: this measures durable ingest, and under qemu the 50
// simulated terminals of one process can be late with a heartbeat
// (liveness itself is tested in tests/integration/link_test.py).
kassa::link::ConnectionOptions BenchLink() {
  kassa::link::ConnectionOptions o;
  o.idle_timeout = std::chrono::seconds(30);
  o.stall_timeout = std::chrono::seconds(30);
  return o;
}
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using kassa::link::FrameType;
namespace m = kassa::model;

struct Options {
  int terminals = 50;
  int ops_per_terminal = 2000;
  int realtime_per_terminal = 100;
  std::string json_path;
};

kassa::hq::ChainConfig BenchChain() {
  kassa::hq::ChainConfig c;
  c.account_numbers = {"B", 10};
  kassa::hq::LegalEntity le;
  le.id = "BENCH";
  le.customer_groups = {{"RETAIL", "Retail", {{"Department", "D100"}}}};
  m::StoreConfig s;
  s.store_id = "BENCH-01";
  s.legal_entity = "BENCH";
  s.operating_unit_country = "LV";
  s.customer_groups = {{"RETAIL", "Retail"}};
  s.default_customer = {"B-DEFAULT", m::CustomerType::kPerson, "RETAIL", m::ReceiptPreference::kPrint, "", "EUR",
                        "lv", {}};
  le.stores = {s};
  c.legal_entities = {le};
  return c;
}

m::Operation NewCreate(int terminal, int i, std::mt19937& rng) {
  static const char* kFirst[] = {"Līga", "Jānis", "Aino", "Sven", "Wei", "Anna", "Mikko", "Elsa"};
  static const char* kLast[] = {"Ozoliņa", "Bērziņš", "Virtanen", "Lindqvist", "Wang", "Kalniņa", "Korhonen"};
  m::Operation op;
  op.op_id = *m::LocalId::Generate();
  op.kind = m::OperationKind::kCreateCustomer;
  op.enqueued_at_ms = 1'700'000'000'000 + i;
  m::Customer& c = op.customer;
  c.id = *m::LocalId::Generate();
  c.first_name = kFirst[rng() % 8];
  c.last_name = kLast[rng() % 7];
  c.email = "t" + std::to_string(terminal) + "c" + std::to_string(i) + "@example.lv";
  c.phone = "+3712" + std::to_string(1000000 + (terminal * 100000 + i) % 9000000);
  c.customer_group = "RETAIL";
  c.currency = "EUR";
  c.language = "lv";
  c.version = 1;
  c.created_at_ms = c.changed_at_ms = op.enqueued_at_ms;
  op.terminal_id = "T" + std::to_string(terminal);
  return op;
}

// One simulated terminal.
class Terminal : public std::enable_shared_from_this<Terminal> {
 public:
  enum class Mode { kUpload, kRealtime };
  Terminal(asio::io_context& io, int id, Mode mode, int count)
      : io_(io), id_(id), mode_(mode), count_(count),
        terminal_("T" + std::to_string(id) + (mode == Mode::kUpload ? "u" : "r")) {}

  void Start(const asio::ip::tcp::endpoint& hq) {
    auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
    socket->async_connect(hq, [self = shared_from_this(), socket](boost::system::error_code ec) {
      if (ec) {
        std::fprintf(stderr, "terminal %d: connect: %s\n", self->id_, ec.message().c_str());
        std::exit(1);
      }
      self->conn_ = std::make_shared<kassa::link::FrameConnection>(std::move(*socket), BenchLink(),
                                                                    kassa::proto_codec::LinkControlPayloads());
      self->conn_->Start([self](FrameType t, kassa::ByteView p) { self->OnFrame(t, p); },
                         [self](const kassa::Status& why) {
                           if (!self->finished_) {
                             std::fprintf(stderr, "terminal %d: link closed: %s\n", self->id_, why.detail());
                             std::exit(1);
                           }
                         });
      m::Hello hello{self->terminal_, "BENCH-01",
                     m::kLinkProtocolVersion, ~std::uint64_t{0} >> 1};  // a cursor past the log: no backlog
      self->conn_->Send(FrameType::kHello, *kassa::proto_codec::EncodeHello(hello));
    });
  }

  bool finished() const { return finished_; }
  const std::vector<double>& latencies_ms() const { return latencies_ms_; }

 private:
  void OnFrame(FrameType type, kassa::ByteView payload) {
    if (type == FrameType::kWelcome) return SendNext();
    if (type == FrameType::kUploadAcks) {
      auto acks = kassa::proto_codec::DecodeUploadAcks(payload);
      for (const auto& a : *acks) {
        if (!a.applied()) std::fprintf(stderr, "rejected: %s\n", a.reason.c_str());
      }
      done_ += static_cast<int>(acks->size());
      return SendNext();
    }
    if (type == FrameType::kRealtimeReply) {
      latencies_ms_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent_at_).count());
      ++done_;
      return SendNext();
    }
  }

  void SendNext() {
    if (done_ >= count_) {
      finished_ = true;
      conn_->Close(kassa::Status(kassa::StatusCode::kCancelled, "done"));
      return;
    }
    if (mode_ == Mode::kUpload) {
      kassa::Bytes batch;
      const int n = std::min<int>(64, count_ - done_);
      for (int i = 0; i < n; ++i) (void)kassa::proto_codec::AppendUploadOperation(NewCreate(id_, next_++, rng_), terminal_, batch);
      conn_->Send(FrameType::kUploadBatch, batch);
    } else {
      sent_at_ = Clock::now();
      auto payload = kassa::proto_codec::EncodeRealtimeRequest({static_cast<std::uint32_t>(next_), NewCreate(id_, next_, rng_)});
      ++next_;
      conn_->Send(FrameType::kRealtimeRequest, *payload);
    }
  }

  asio::io_context& io_;
  const int id_;
  const Mode mode_;
  const int count_;
  const std::string terminal_;
  std::shared_ptr<kassa::link::FrameConnection> conn_;
  std::mt19937 rng_{42};
  int next_ = 0;
  int done_ = 0;
  bool finished_ = false;
  Clock::time_point sent_at_;
  std::vector<double> latencies_ms_;
};

double RunPhase(const asio::ip::tcp::endpoint& hq, Terminal::Mode mode, int terminals, int count,
                std::vector<double>* latencies) {
  asio::io_context io(1);
  std::vector<std::shared_ptr<Terminal>> all;
  for (int t = 0; t < terminals; ++t) all.push_back(std::make_shared<Terminal>(io, t, mode, count));
  const auto start = Clock::now();
  for (auto& t : all) t->Start(hq);
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& t : all) {
    if (!t->finished()) {
      std::fprintf(stderr, "a terminal did not finish\n");
      std::exit(1);
    }
    if (latencies != nullptr) latencies->insert(latencies->end(), t->latencies_ms().begin(), t->latencies_ms().end());
  }
  return seconds;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--quick") {
      o.terminals = 50;
      o.ops_per_terminal = 128;
      o.realtime_per_terminal = 10;
    } else if (arg == "--terminals") {
      o.terminals = std::stoi(next());
    } else if (arg == "--ops") {
      o.ops_per_terminal = std::stoi(next());
    } else if (arg == "--realtime") {
      o.realtime_per_terminal = std::stoi(next());
    } else if (arg == "--json") {
      o.json_path = next();
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--terminals N] [--ops N] [--realtime N] [--json FILE]\n", argv[0]);
      return 2;
    }
  }
  kassa::SetLogLevel(kassa::LogLevel::kWarning);
  const auto dir = std::filesystem::temp_directory_path() / ("kassa-bench-hq-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  kassa::SystemClock clock;
  auto store = kassa::storage::OpenLmdbChainStore(dir.string(), kassa::storage::kDefaultChainMapBytes);
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().detail());
    return 1;
  }
  auto registry = kassa::hq::Registry::Open(**store, clock, BenchChain());
  asio::io_context hq_io(1);
  kassa::hq::LinkServerOptions server_options;
  server_options.connection = BenchLink();
  auto server = kassa::hq::LinkServer::Start(hq_io.get_executor(), "127.0.0.1", 0, **registry, server_options);
  if (!registry.ok() || !server.ok()) return 1;
  auto guard = asio::make_work_guard(hq_io);
  std::thread hq_thread([&] { hq_io.run(); });
  const asio::ip::tcp::endpoint hq(asio::ip::make_address("127.0.0.1"), (*server)->port());

  const double upload_s = RunPhase(hq, Terminal::Mode::kUpload, o.terminals, o.ops_per_terminal, nullptr);
  std::vector<double> latencies;
  const double realtime_s = RunPhase(hq, Terminal::Mode::kRealtime, o.terminals, o.realtime_per_terminal, &latencies);
  asio::post(hq_io, [&] { (*server)->Stop(); });
  guard.reset();
  hq_io.stop();
  hq_thread.join();
  const auto stats = (*store)->Stats();

  const double uploaded = static_cast<double>(o.terminals) * o.ops_per_terminal;
  const double realtime = static_cast<double>(o.terminals) * o.realtime_per_terminal;
  std::printf("kassa-hq durable ingest, %d concurrent terminals (LMDB on %s)\n", o.terminals, dir.c_str());
  std::printf("%-34s %12s %12s %10s %10s\n", "workload", "operations", "seconds", "ops/s", "p99 ms");
  std::printf("%-34s %12.0f %12.2f %10.0f %10s\n", "async upload (batches of 64)", uploaded, upload_s,
              uploaded / upload_s, "-");
  std::printf("%-34s %12.0f %12.2f %10.0f %10.1f\n", "real-time create (1 in flight each)", realtime, realtime_s,
              realtime / realtime_s, Percentile(latencies, 0.99));
  std::printf("customers at headquarters: %llu\n", static_cast<unsigned long long>(stats.ok() ? stats->customers : 0));
  if (!o.json_path.empty()) {
    std::ofstream(o.json_path) << "{\"terminals\":" << o.terminals << ",\"async_upload\":{\"operations\":" << uploaded
                               << ",\"seconds\":" << upload_s << ",\"ops_per_second\":" << uploaded / upload_s
                               << "},\"realtime_create\":{\"operations\":" << realtime << ",\"seconds\":" << realtime_s
                               << ",\"ops_per_second\":" << realtime / realtime_s
                               << ",\"p50_ms\":" << Percentile(latencies, 0.5)
                               << ",\"p99_ms\":" << Percentile(latencies, 0.99) << "}}\n";
  }
  store->reset();
  std::filesystem::remove_all(dir);
  const bool all_there = stats.ok() && stats->customers == static_cast<std::uint64_t>(uploaded + realtime);
  if (!all_there) std::fprintf(stderr, "expected %.0f customers at headquarters\n", uploaded + realtime);
  return all_there ? 0 : 1;
}
