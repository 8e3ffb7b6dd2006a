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
// Both workloads run over the plaintext development link and over mutual
// TLS (each terminal with its own certificate from a chain CA made for the
// run), alternating, `--rounds` times (3; 1 with --quick): TLS's cost is the
// median of the rounds' ratios, since the durable commits' speed on a shared
// disk drifts more between phases than TLS costs.
// For the async upload it also says what a create costs in processor time:
// this process's (headquarters and the simulated terminals: getrusage) and
// the whole machine's (/proc/stat, busy time of every core, so PostgreSQL's
// processes when the database is local, and anything else running), and
// what the machine's cores, all busy, would give at that cost.
//
// usage: kassa_bench_hq_ingest [--quick] [--terminals N] [--ops N] [--realtime N] [--rounds N] [--json FILE]
//            [--plaintext-store] [--database CONNINFO] [--fanout N [--fanout-creates K] [--fanout-plaintext]]
// The store is sealed at rest as kassa-hq's always is; --plaintext-store
// opens it unsealed, to measure what sealing costs. --database runs
// headquarters on PostgreSQL instead: each measurement in a new schema of
// that database (its role must be allowed to create schemas), dropped after.
// --fanout N measures distribution instead: N terminals of one legal entity
// following the log while one more creates K customers (20) one at a time;
// from each create to its arrival at every terminal, and the process's memory;
// over mutual TLS, each terminal with a certificate of its own
// (--fanout-plaintext: the development link).

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <algorithm>
#include <cctype>
#include <functional>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <random>
#include <string>
#include <thread>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"
#include "kassa/crypto/key_store.h"
#include "kassa/base/system_clock.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/link/frame_connection.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/storage/chain_store.h"
#include "kassa/tls/link_tls.h"
#include "kassa/tls/pki.h"

#ifdef KASSA_BENCH_POSTGRES
#include <libpq-fe.h>
#endif

namespace {

// The link as the terminals use it, but with dead-peer detection at 30 s
// instead of 3.5 s: this measures durable ingest, and under qemu the 50
// simulated terminals of one process can be late with a heartbeat
// (liveness itself is tested in tests/integration/link_test.py).
// Ends the run as failed at once: what went wrong was printed already. Not
// exit(): headquarters' and the terminals' threads may still be running,
// and static destructors under them crash.
[[noreturn]] void Die() {
  std::fflush(nullptr);
  std::_Exit(1);
}

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
  int rounds = 3;
  bool plaintext_store = false;  // the store unsealed: sealing's cost, compared by hand
  std::string json_path;
  std::string database;  // PostgreSQL instead of LMDB
  int fanout = 0;        // --fanout N: the distribution measurement instead, N listening terminals
  int fanout_creates = 20;
  bool fanout_plaintext = false;  // the fan-out without TLS
};

#ifdef KASSA_BENCH_POSTGRES
// Runs one administrative statement (a schema made or dropped) on `conninfo`.
void AdminSql(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  PGresult* r = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql.c_str()) : nullptr;
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) std::fprintf(stderr, "database: %s\n", PQerrorMessage(conn));
  PQclear(r);
  PQfinish(conn);
  if (!ok) Die();
}
#endif

// A fresh chain store for one measurement: LMDB in `dir`, or a new schema of
// o.database (dropped by the returned cleanup).
std::pair<std::unique_ptr<kassa::storage::ChainStore>, std::function<void()>> FreshStore(
    const Options& o, const std::filesystem::path& dir, std::shared_ptr<kassa::crypto::KeyStore> keys) {
  kassa::Result<std::unique_ptr<kassa::storage::ChainStore>> store =
      kassa::Status(kassa::StatusCode::kUnimplemented, "database: this build has no PostgreSQL support");
  std::function<void()> cleanup = [] {};
  if (o.database.empty()) {
    store = kassa::storage::OpenLmdbChainStore(dir.string(), kassa::storage::kDefaultChainMapBytes, keys);
  } else {
#ifdef KASSA_BENCH_POSTGRES
    const std::string schema = "bench_" + std::to_string(::getpid()) + "_" + dir.filename().string();
    std::string name;
    for (char c : schema) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    AdminSql(o.database, "CREATE SCHEMA " + name);
    store = kassa::storage::OpenPostgresChainStore({o.database + " options='-c search_path=" + name + "'", keys});
    cleanup = [o, name] { AdminSql(o.database, "DROP SCHEMA " + name + " CASCADE"); };
#endif
  }
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().detail());
    Die();
  }
  return {std::move(*store), cleanup};
}

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

// The run's chain CA, headquarters' certificate and every simulated
// terminal's bundle, as files in `dir` (the contexts load files).
class BenchPki {
 public:
  explicit BenchPki(std::filesystem::path dir) : dir_(std::move(dir)) {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
    validity_ = {now - 3600, now + 24 * 3600};
    ca_ = Must(kassa::tls::CreateChainCa("bench", validity_));
    const auto hq = Must(kassa::tls::IssueHeadquartersCertificate(ca_.certificate_pem, ca_.key_pem, {"127.0.0.1"},
                                                                  validity_));
    std::filesystem::create_directories(dir_ / "hq");
    server_ = Must(kassa::tls::MakeServerContext(Write(dir_ / "hq", hq)));
  }
  std::shared_ptr<kassa::tls::Context> server() const { return server_; }
  std::shared_ptr<kassa::tls::Context> Terminal(const std::string& id) {
    const auto cert = Must(kassa::tls::IssueTerminalCertificate(ca_.certificate_pem, ca_.key_pem, id, "BENCH-01",
                                                                validity_));
    std::filesystem::create_directories(dir_ / id);
    return Must(kassa::tls::MakeClientContext(Write(dir_ / id, cert), "127.0.0.1"));
  }

 private:
  template <typename T>
  static T Must(kassa::Result<T> r) {
    if (!r.ok()) {
      std::fprintf(stderr, "bench PKI: %s\n", r.status().detail());
      Die();
    }
    return std::move(*r);
  }
  kassa::tls::LinkCredentials Write(const std::filesystem::path& at, const kassa::tls::IssuedCertificate& c) const {
    const kassa::tls::LinkCredentials files{(at / "ca.crt").string(), (at / "cert.pem").string(),
                                            (at / "key.pem").string()};
    if (!kassa::WriteFileAtomically(files.ca_file, ca_.certificate_pem).ok() ||
        !kassa::WriteFileAtomically(files.certificate_file, c.certificate_pem).ok() ||
        !kassa::WriteFileAtomically(files.key_file, c.key_pem, 0600).ok()) {
      std::fprintf(stderr, "bench PKI: cannot write %s\n", at.c_str());
      Die();
    }
    return files;
  }
  std::filesystem::path dir_;
  kassa::tls::Validity validity_;
  kassa::tls::IssuedCertificate ca_;
  std::shared_ptr<kassa::tls::Context> server_;
};

// One simulated terminal.
class Terminal : public std::enable_shared_from_this<Terminal> {
 public:
  enum class Mode { kUpload, kRealtime };
  Terminal(asio::io_context& io, int id, Mode mode, int count)
      : io_(io), id_(id), mode_(mode), count_(count),
        terminal_("T" + std::to_string(id) + (mode == Mode::kUpload ? "u" : "r")) {}
  const std::string& terminal_id() const { return terminal_; }

  // `tls` null: the plaintext development link.
  void Start(const asio::ip::tcp::endpoint& hq, std::shared_ptr<kassa::tls::Context> tls) {
    auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
    socket->async_connect(hq, [self = shared_from_this(), socket, tls](boost::system::error_code ec) {
      if (ec) {
        std::fprintf(stderr, "terminal %d: connect: %s\n", self->id_, ec.message().c_str());
        Die();
      }
      if (!tls) return self->Run(kassa::link::LinkSocket(std::move(*socket)));
      auto stream = std::make_shared<kassa::link::LinkSocket::Tls>(std::move(*socket), *tls);
      stream->async_handshake(asio::ssl::stream_base::client, [self, stream](boost::system::error_code hs) {
        if (hs) {
          std::fprintf(stderr, "terminal %d: TLS: %s\n", self->id_,
                       kassa::tls::DescribeHandshakeError(hs, SSL_get_verify_result(stream->native_handle())).c_str());
          Die();
        }
        self->Run(kassa::link::LinkSocket(std::make_unique<kassa::link::LinkSocket::Tls>(std::move(*stream))));
      });
    });
  }

  void Run(kassa::link::LinkSocket socket) {
    auto self = shared_from_this();
    {
      self->conn_ = std::make_shared<kassa::link::FrameConnection>(std::move(socket), BenchLink(),
                                                                    kassa::proto_codec::LinkControlPayloads());
      self->conn_->Start([self](FrameType t, kassa::ByteView p) { self->OnFrame(t, p); },
                         [self](const kassa::Status& why) {
                           if (!self->finished_) {
                             std::fprintf(stderr, "terminal %d: link closed: %s\n", self->id_, why.detail());
                             Die();
                           }
                         });
      m::Hello hello{self->terminal_, "BENCH-01",
                     m::kLinkProtocolVersion, ~std::uint64_t{0} >> 1};  // a cursor past the log: no backlog
      self->conn_->Send(FrameType::kHello, *kassa::proto_codec::EncodeHello(hello));
    }
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

// `pki` null: the plaintext development link.
double RunPhase(const asio::ip::tcp::endpoint& hq, BenchPki* pki, Terminal::Mode mode, int terminals, int count,
                std::vector<double>* latencies) {
  asio::io_context io(1);
  std::vector<std::shared_ptr<Terminal>> all;
  std::vector<std::shared_ptr<kassa::tls::Context>> contexts;
  for (int t = 0; t < terminals; ++t) {
    all.push_back(std::make_shared<Terminal>(io, t, mode, count));
    contexts.push_back(pki != nullptr ? pki->Terminal(all.back()->terminal_id()) : nullptr);
  }
  const auto start = Clock::now();
  for (int t = 0; t < terminals; ++t) all[static_cast<std::size_t>(t)]->Start(hq, contexts[static_cast<std::size_t>(t)]);
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& t : all) {
    if (!t->finished()) {
      std::fprintf(stderr, "a terminal did not finish\n");
      Die();
    }
    if (latencies != nullptr) latencies->insert(latencies->end(), t->latencies_ms().begin(), t->latencies_ms().end());
  }
  return seconds;
}

// Processor time spent so far, in seconds: this process's (every thread),
// and every core's busy and total time (/proc/stat's first line: busy is all
// but idle, iowait and steal; steal is time the hypervisor gave elsewhere).
struct CpuTime {
  double process = 0, machine_busy = 0, machine_total = 0;
};

CpuTime CpuNow() {
  CpuTime t;
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    const auto seconds = [](const timeval& v) {
      return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6;
    };
    t.process = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal && cpu == "cpu") {
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    t.machine_busy = static_cast<double>(user + nice + system + irq + softirq) / tick;
    t.machine_total = static_cast<double>(user + nice + system + idle + iowait + irq + softirq + steal) / tick;
  }
  return t;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

struct Figures {
  double uploaded = 0, upload_s = 0, realtime = 0, realtime_s = 0;
  CpuTime upload_cpu;  // spent during the async upload
  std::vector<double> latencies;
  bool complete = false;  // every customer at headquarters
};

// Both workloads against a fresh headquarters in `dir`, over TLS when `pki` is given.
Figures Measure(const Options& o, const std::filesystem::path& dir, BenchPki* pki) {
  std::filesystem::create_directories(dir);
  kassa::SystemClock clock;
  // Sealed at rest, as kassa-hq always is (unless --plaintext-store).
  std::shared_ptr<kassa::crypto::KeyStore> keys;
  if (!o.plaintext_store) {
    auto file = kassa::crypto::FileKeyStore::Open(dir.string() + ".key", dir.string());
    if (!file.ok()) {
      std::fprintf(stderr, "key file: %s\n", file.status().detail());
      Die();
    }
    keys = std::move(*file);
  }
  auto [store, drop_store] = FreshStore(o, dir, keys);
  auto registry = kassa::hq::Registry::Open(*store, clock, BenchChain());
  if (!registry.ok()) Die();
  asio::io_context hq_io(1);
  kassa::hq::LinkServerOptions server_options;
  server_options.connection = BenchLink();
  server_options.tls = pki != nullptr ? pki->server() : nullptr;
  // Every simulated terminal connects at once from 127.0.0.1.
  server_options.max_unauthenticated_per_source = server_options.max_unauthenticated = 4096;
  auto server = kassa::hq::LinkServer::Start(hq_io.get_executor(), "127.0.0.1", 0, **registry, server_options);
  if (!server.ok()) Die();
  auto guard = asio::make_work_guard(hq_io);
  std::thread hq_thread([&] { hq_io.run(); });
  const asio::ip::tcp::endpoint hq(asio::ip::make_address("127.0.0.1"), (*server)->port());

  Figures f;
  const CpuTime before = CpuNow();
  f.upload_s = RunPhase(hq, pki, Terminal::Mode::kUpload, o.terminals, o.ops_per_terminal, nullptr);
  const CpuTime after = CpuNow();
  f.upload_cpu = {after.process - before.process, after.machine_busy - before.machine_busy,
                  after.machine_total - before.machine_total};
  f.realtime_s = RunPhase(hq, pki, Terminal::Mode::kRealtime, o.terminals, o.realtime_per_terminal, &f.latencies);
  // The registry's loop first, then the server (its network thread) while
  // the registry it saves the cursors to still exists.
  guard.reset();
  hq_io.stop();
  hq_thread.join();
  server->reset();
  const auto stats = store->Stats();
  f.uploaded = static_cast<double>(o.terminals) * o.ops_per_terminal;
  f.realtime = static_cast<double>(o.terminals) * o.realtime_per_terminal;
  f.complete = stats.ok() && stats->customers == static_cast<std::uint64_t>(f.uploaded + f.realtime);
  if (!f.complete) std::fprintf(stderr, "expected %.0f customers at headquarters\n", f.uploaded + f.realtime);
  registry->reset();
  store.reset();
  drop_store();
  return f;
}

// Processor time of one async create, in microseconds: this process's and the machine's.
double ProcessUsPerCreate(const Figures& f) { return f.upload_cpu.process * 1e6 / f.uploaded; }
double MachineUsPerCreate(const Figures& f) { return f.upload_cpu.machine_busy * 1e6 / f.uploaded; }
// Creates a second with every core busy, at the machine's cost per create
// (0: the machine's time unknown).
double CeilingPerSecond(const Figures& f) {
  const double us = MachineUsPerCreate(f);
  return us > 0 ? static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)) * 1e6 / us : 0;
}
double MachineBusyShare(const Figures& f) {
  return f.upload_cpu.machine_total > 0 ? f.upload_cpu.machine_busy / f.upload_cpu.machine_total : 0;
}

std::string Json(const Figures& f) {
  std::ostringstream out;
  out << "{\"async_upload\":{\"operations\":" << f.uploaded << ",\"seconds\":" << f.upload_s
      << ",\"ops_per_second\":" << f.uploaded / f.upload_s << ",\"process_cpu_us_per_op\":" << ProcessUsPerCreate(f)
      << ",\"machine_cpu_us_per_op\":" << MachineUsPerCreate(f)
      << ",\"machine_busy_share\":" << MachineBusyShare(f)
      << ",\"all_cores_busy_ops_per_second\":" << CeilingPerSecond(f)
      << "},\"realtime_create\":{\"operations\":" << f.realtime
      << ",\"seconds\":" << f.realtime_s << ",\"ops_per_second\":" << f.realtime / f.realtime_s
      << ",\"p50_ms\":" << Percentile(f.latencies, 0.5) << ",\"p99_ms\":" << Percentile(f.latencies, 0.99) << "}}";
  return out.str();
}


// Distribution fan-out (issue 17): `o.fanout` terminals of one legal
// entity connected and following the log (acknowledging every frame, as
// kassad does), one more creating customers in real time one after the
// other; for each customer, how long after its create was sent each
// listener had it.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, int id, std::map<m::LocalId, std::vector<Clock::time_point>>& arrivals)
      : io_(io), terminal_("L" + std::to_string(id)), arrivals_(arrivals) {}
  // `tls` null: the plaintext development link.
  void Start(const asio::ip::tcp::endpoint& hq, std::uint64_t cursor, std::shared_ptr<kassa::tls::Context> tls,
             std::function<void()> ready) {
    auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
    socket->async_connect(hq, [self = shared_from_this(), socket, cursor, tls, ready](boost::system::error_code ec) {
      if (ec) {
        std::fprintf(stderr, "listener: connect: %s\n", ec.message().c_str());
        Die();
      }
      if (!tls) return self->Run(kassa::link::LinkSocket(std::move(*socket)), cursor, ready);
      auto stream = std::make_shared<kassa::link::LinkSocket::Tls>(std::move(*socket), *tls);
      stream->async_handshake(asio::ssl::stream_base::client, [self, stream, cursor, ready](boost::system::error_code hs) {
        if (hs) {
          std::fprintf(stderr, "listener: TLS: %s\n", hs.message().c_str());
          Die();
        }
        self->Run(kassa::link::LinkSocket(std::make_unique<kassa::link::LinkSocket::Tls>(std::move(*stream))), cursor,
                  ready);
      });
    });
  }
  void Run(kassa::link::LinkSocket socket, std::uint64_t cursor, const std::function<void()>& ready) {
    auto self = shared_from_this();
    conn_ = std::make_shared<kassa::link::FrameConnection>(std::move(socket), BenchLink(),
                                                           kassa::proto_codec::LinkControlPayloads());
    conn_->Start([self, ready](FrameType t, kassa::ByteView p) { self->OnFrame(t, p, ready); },
                 [self](const kassa::Status& why) {
                   if (!self->stopping_) {
                     std::fprintf(stderr, "listener %s: link closed: %s\n", self->terminal_.c_str(), why.detail());
                     Die();
                   }
                 });
    const m::Hello hello{terminal_, "BENCH-01", m::kLinkProtocolVersion, cursor};
    conn_->Send(FrameType::kHello, *kassa::proto_codec::EncodeHello(hello));
  }
  const std::string& terminal_id() const { return terminal_; }
  void Stop() {
    stopping_ = true;
    if (conn_) conn_->Close(kassa::Status(kassa::StatusCode::kCancelled, "done"));
  }

 private:
  void OnFrame(FrameType type, kassa::ByteView payload, const std::function<void()>& ready) {
    if (type == FrameType::kWelcome) return ready();
    if (type != FrameType::kDistribution) return;
    const auto now = Clock::now();
    auto changes = kassa::proto_codec::DecodeDistribution(payload);
    if (!changes.ok() || changes->empty()) return;
    for (const auto& c : *changes) {
      if (c.kind == m::Change::Kind::kCustomerUpsert) arrivals_[c.customer.id].push_back(now);
    }
    conn_->Send(FrameType::kDistributionAck, *kassa::proto_codec::EncodeDistributionAck(changes->back().seq));
  }
  asio::io_context& io_;
  std::string terminal_;
  std::map<m::LocalId, std::vector<Clock::time_point>>& arrivals_;
  std::shared_ptr<kassa::link::FrameConnection> conn_;
  bool stopping_ = false;
};

long ProcessKiB(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return 0;
}

int RunFanOutTerminals(const Options& o, const asio::ip::tcp::endpoint& hq, std::uint64_t head, BenchPki* pki);

int FanOut(const Options& o, const std::filesystem::path& dir, BenchPki* pki) {
  std::filesystem::create_directories(dir);
  kassa::SystemClock clock;
  auto file = kassa::crypto::FileKeyStore::Open(dir.string() + ".key", dir.string());
  if (!file.ok()) Die();
  std::shared_ptr<kassa::crypto::KeyStore> keys = std::move(*file);
  std::filesystem::create_directories(dir / "fanout");
  auto [store, drop_store] = FreshStore(o, dir / "fanout", keys);
  auto registry = kassa::hq::Registry::Open(*store, clock, BenchChain());
  if (!registry.ok()) Die();
  asio::io_context hq_io(1);
  kassa::hq::LinkServerOptions server_options;
  server_options.connection = BenchLink();
  server_options.max_unauthenticated_per_source = server_options.max_unauthenticated = 8192;
  server_options.tls = pki != nullptr ? pki->server() : nullptr;
  const std::uint64_t head = store->Stats()->head_seq;
  // The simulated terminals run in a child process: headquarters' memory is
  // then this process's alone. Forked before the server starts its network
  // thread (a fork copies one thread only, and whatever locks the others
  // held); the child learns the port through a pipe.
  int port_pipe[2];
  if (::pipe(port_pipe) != 0) Die();
  std::fflush(stdout);
  const pid_t terminals = ::fork();
  if (terminals < 0) Die();
  if (terminals == 0) {
    ::close(port_pipe[1]);
    std::uint16_t port = 0;
    if (::read(port_pipe[0], &port, sizeof port) != static_cast<ssize_t>(sizeof port) || port == 0) std::_Exit(1);
    std::_Exit(RunFanOutTerminals(o, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), head, pki));
  }
  ::close(port_pipe[0]);
  auto server = kassa::hq::LinkServer::Start(hq_io.get_executor(), "127.0.0.1", 0, **registry, server_options);
  const std::uint16_t port = server.ok() ? (*server)->port() : 0;
  const bool told = ::write(port_pipe[1], &port, sizeof port) == static_cast<ssize_t>(sizeof port);
  ::close(port_pipe[1]);
  if (!server.ok() || !told) Die();
  const long rss_before = ProcessKiB("VmRSS:");
  auto guard = asio::make_work_guard(hq_io);
  std::thread hq_thread([&] { hq_io.run(); });
  int child_status = 0;
  ::waitpid(terminals, &child_status, 0);
  const long rss_peak = ProcessKiB("VmHWM:");
  guard.reset();
  hq_io.stop();
  hq_thread.join();
  server->reset();
  registry->reset();
  store.reset();
  drop_store();
  std::printf("  headquarters' memory (its process alone, the terminals in another): %.0f MB before they connected, "
              "%.0f MB peak (goal: at most 256 MB)\n",
              static_cast<double>(rss_before) / 1024, static_cast<double>(rss_peak) / 1024);
  return WIFEXITED(child_status) ? WEXITSTATUS(child_status) : 1;
}

// The terminals' side of FanOut, in its own process. Returns 0 when every
// customer reached every listener.
int RunFanOutTerminals(const Options& o, const asio::ip::tcp::endpoint& hq, std::uint64_t head, BenchPki* pki) {
  asio::io_context io(1);
  std::map<m::LocalId, std::vector<Clock::time_point>> arrivals;
  std::map<m::LocalId, Clock::time_point> sent;
  std::vector<std::shared_ptr<Listener>> listeners;
  int ready = 0;
  std::shared_ptr<kassa::link::FrameConnection> writer;
  std::mt19937 rng(7);
  int created = 0;
  asio::steady_timer pace(io);
  std::function<void()> create_next = [&] {
    if (created == o.fanout_creates) {
      pace.expires_after(std::chrono::seconds(3));  // the last one's deliveries
      pace.async_wait([&](boost::system::error_code) {
        for (auto& l : listeners) l->Stop();
        writer->Close(kassa::Status(kassa::StatusCode::kCancelled, "done"));
      });
      return;
    }
    m::Operation op = NewCreate(0, created, rng);
    op.terminal_id = "W0";
    sent[op.customer.id] = Clock::now();
    writer->Send(FrameType::kRealtimeRequest,
                 *kassa::proto_codec::EncodeRealtimeRequest({static_cast<std::uint32_t>(created), op}));
    ++created;
  };
  std::shared_ptr<kassa::tls::Context> writer_tls = pki != nullptr ? pki->Terminal("W0") : nullptr;
  const auto open_writer = [&](kassa::link::LinkSocket socket) {
      writer = std::make_shared<kassa::link::FrameConnection>(std::move(socket), BenchLink(),
                                                              kassa::proto_codec::LinkControlPayloads());
      writer->Start(
          [&](FrameType t, kassa::ByteView) {
            if (t == FrameType::kWelcome || t == FrameType::kRealtimeReply) {
              // One create every 250 ms: each customer's deliveries apart from the next one's.
              pace.expires_after(std::chrono::milliseconds(t == FrameType::kWelcome ? 0 : 250));
              pace.async_wait([&](boost::system::error_code e) {
                if (!e) create_next();
              });
            }
          },
          [](const kassa::Status&) {});
      writer->Send(FrameType::kHello,
                   *kassa::proto_codec::EncodeHello({"W0", "BENCH-01", m::kLinkProtocolVersion, ~std::uint64_t{0} >> 1}));
  };
  const auto start_writer = [&] {
    auto socket = std::make_shared<asio::ip::tcp::socket>(io);
    socket->async_connect(hq, [&, socket](boost::system::error_code ec) {
      if (ec) Die();
      if (!writer_tls) return open_writer(kassa::link::LinkSocket(std::move(*socket)));
      auto stream = std::make_shared<kassa::link::LinkSocket::Tls>(std::move(*socket), *writer_tls);
      stream->async_handshake(asio::ssl::stream_base::client, [&, stream](boost::system::error_code hs) {
        if (hs) Die();
        open_writer(kassa::link::LinkSocket(std::make_unique<kassa::link::LinkSocket::Tls>(std::move(*stream))));
      });
    });
  };
  std::vector<std::shared_ptr<kassa::tls::Context>> contexts;
  for (int i = 0; i < o.fanout; ++i) {
    listeners.push_back(std::make_shared<Listener>(io, i, arrivals));
    contexts.push_back(pki != nullptr ? pki->Terminal(listeners.back()->terminal_id()) : nullptr);
  }
  const auto connected_at = Clock::now();
  for (int i = 0; i < o.fanout; ++i) {
    listeners[static_cast<std::size_t>(i)]->Start(hq, head, contexts[static_cast<std::size_t>(i)], [&] {
      if (++ready == o.fanout) {
        std::printf("%d terminals connected in %.1f s\n", o.fanout,
                    std::chrono::duration<double>(Clock::now() - connected_at).count());
        start_writer();
      }
    });
  }
  io.run();
  std::vector<double> all, worst_per_customer;
  std::size_t missing = 0;
  for (const auto& [id, at] : sent) {
    const auto& got = arrivals[id];
    missing += static_cast<std::size_t>(o.fanout) - std::min<std::size_t>(got.size(), static_cast<std::size_t>(o.fanout));
    double worst = 0;
    for (const auto& t : got) {
      const double ms = std::chrono::duration<double, std::milli>(t - at).count();
      all.push_back(ms);
      worst = std::max(worst, ms);
    }
    worst_per_customer.push_back(worst);
  }
  std::printf("distribution fan-out, %s, %s, %d terminals of one legal entity, %d customers created one at a time:\n",
              o.database.empty() ? "LMDB" : "PostgreSQL", pki != nullptr ? "mutual TLS" : "plaintext link", o.fanout,
              o.fanout_creates);
  std::printf("  delivered %zu of %zu; from create to each terminal: p50 %.0f ms, p99 %.0f ms, max %.0f ms "
              "(goal: p99 at most 2,000 ms)\n",
              all.size(), sent.size() * static_cast<std::size_t>(o.fanout), Percentile(all, 0.5), Percentile(all, 0.99),
              all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()));
  std::fflush(stdout);
  return missing == 0 ? 0 : 1;
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
      o.rounds = 1;
    } else if (arg == "--rounds") {
      o.rounds = std::max(1, std::stoi(next()));
    } else if (arg == "--terminals") {
      o.terminals = std::stoi(next());
    } else if (arg == "--ops") {
      o.ops_per_terminal = std::stoi(next());
    } else if (arg == "--realtime") {
      o.realtime_per_terminal = std::stoi(next());
    } else if (arg == "--json") {
      o.json_path = next();
    } else if (arg == "--plaintext-store") {
      o.plaintext_store = true;
    } else if (arg == "--database") {
      o.database = next();
    } else if (arg == "--fanout") {
      o.fanout = std::stoi(next());
    } else if (arg == "--fanout-creates") {
      o.fanout_creates = std::stoi(next());
    } else if (arg == "--fanout-plaintext") {
      o.fanout_plaintext = true;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--terminals N] [--ops N] [--realtime N] [--rounds N] [--json FILE] [--plaintext-store] [--database CONNINFO] [--fanout N [--fanout-creates K] [--fanout-plaintext]]\n",
                   argv[0]);
      return 2;
    }
  }
  kassa::SetLogLevel(kassa::LogLevel::kWarning);
  const auto dir = std::filesystem::temp_directory_path() / ("kassa-bench-hq-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  if (o.fanout > 0) {
    std::unique_ptr<BenchPki> fanout_pki;
    if (!o.fanout_plaintext) fanout_pki = std::make_unique<BenchPki>(dir / "pki");
    const int rc = FanOut(o, dir, fanout_pki.get());
    std::filesystem::remove_all(dir);
    std::filesystem::remove(dir.string() + ".key");
    return rc;
  }
  BenchPki pki(dir / "pki");
  std::vector<std::pair<Figures, Figures>> rounds;  // (plaintext, TLS), alternating
  for (int r = 0; r < o.rounds; ++r) {
    Figures plain = Measure(o, dir / ("plain-" + std::to_string(r)), nullptr);
    Figures tls = Measure(o, dir / ("tls-" + std::to_string(r)), &pki);
    rounds.emplace_back(std::move(plain), std::move(tls));
  }
  std::filesystem::remove_all(dir);

  std::printf("kassa-hq durable ingest, %d concurrent terminals, %d round(s) (%s %s, %s)\n", o.terminals, o.rounds,
              o.database.empty() ? "LMDB under" : "PostgreSQL:", o.database.empty() ? dir.c_str() : "--database",
              o.plaintext_store ? "plaintext" : "sealed at rest");
  std::printf("%-5s %-42s %12s %10s %10s %10s %10s\n", "round", "workload", "operations", "seconds", "ops/s", "p50 ms",
              "p99 ms");
  std::vector<double> costs;
  bool complete = true;
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    const auto& [plain, tls] = rounds[r];
    for (const auto* f : {&plain, &tls}) {
      const char* link = f == &plain ? "plaintext" : "mutual TLS";
      std::printf("%-5zu %-42s %12.0f %10.2f %10.0f %10s %10s\n", r + 1,
                  (std::string("async upload (batches of 64), ") + link).c_str(), f->uploaded, f->upload_s,
                  f->uploaded / f->upload_s, "-", "-");
      std::printf("%-5zu %-42s %12.0f %10.2f %10.0f %10.1f %10.1f\n", r + 1,
                  (std::string("real-time create (1 in flight), ") + link).c_str(), f->realtime, f->realtime_s,
                  f->realtime / f->realtime_s, Percentile(f->latencies, 0.5), Percentile(f->latencies, 0.99));
      complete = complete && f->complete;
    }
    costs.push_back(1.0 - (tls.uploaded / tls.upload_s) / (plain.uploaded / plain.upload_s));
  }
  std::printf("processor time of an async create, %s:\n",
              o.database.empty() ? "headquarters on LMDB in this process"
                                 : "PostgreSQL's processes counted with the machine");
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    for (const auto* f : {&rounds[r].first, &rounds[r].second}) {
      if (CeilingPerSecond(*f) <= 0) {  // /proc/stat unreadable, or no tick of busy time counted
        std::printf("%-5zu %-11s %5.0f us in this process\n", r + 1, f == &rounds[r].first ? "plaintext" : "mutual TLS",
                    ProcessUsPerCreate(*f));
        continue;
      }
      std::printf("%-5zu %-11s %5.0f us in this process, %5.0f us on the machine (%ld cores, %2.0f%% busy): "
                  "all busy would give %.0f ops/s\n",
                  r + 1, f == &rounds[r].first ? "plaintext" : "mutual TLS", ProcessUsPerCreate(*f),
                  MachineUsPerCreate(*f),
                  sysconf(_SC_NPROCESSORS_ONLN), 100 * MachineBusyShare(*f),
                  CeilingPerSecond(*f));
    }
  }
  const double cost = Percentile(costs, 0.5);
  std::printf("TLS costs %.1f%% of async ingest throughput, median of %zu round(s) (goal: at most 10%%)\n", cost * 100,
              costs.size());
  if (!o.json_path.empty()) {
    std::ofstream json(o.json_path);
    json << "{\"terminals\":" << o.terminals << ",\"rounds\":[";
    for (std::size_t r = 0; r < rounds.size(); ++r) {
      json << (r ? "," : "") << "{\"plaintext\":" << Json(rounds[r].first) << ",\"tls\":" << Json(rounds[r].second)
           << ",\"tls_ingest_cost\":" << costs[r] << "}";
    }
    json << "],\"tls_ingest_cost_median\":" << cost << "}\n";
  }
  return complete ? 0 : 1;
}
