// The terminal's performance and footprint against the floor (bare LMDB) and
// against SQLite as point-of-sale systems use it, on the same data and the
// same queries, in one run (issue 7). See docs/PERFORMANCE.md for the method.
//
//   1. load N deterministic customers (dataset.h) into kassa's CustomerStore
//      (the way a terminal receives them: headquarters' distribution) and
//      into SQLite;
//   2. search: name prefix, two name tokens in either order, phone fragment,
//      email, account number, loyalty card; kassa through its one search box
//      (SearchCustomers), SQLite through the query made for each kind;
//   3. durable create (customer, indexes, outbox in one synced transaction)
//      against a bare LMDB synced put and SQLite's create transaction;
//   4. a bare LMDB get of a customer record;
//   5. kassad at N customers: cold start until it answers its first search,
//      its own (anonymous) resident memory while serving searches, the data
//      file's size;
//   6. the link: bytes per customer in an upload batch against compact JSON,
//      and a terminal's outbox uploaded to kassa-hq (durable at both ends);
//   7. with --memory-limit (issue 22, root): each side again in a memory
//      control group of a board's size, the page cache dropped before each
//      phase: the same searches and fresh durable creates, kassa and SQLite
//      each in a child process of its own group, and kassad's start to its
//      first answer; pages read per query from /proc/self/io. Repeated
//      --limited-runs times (3; 1 with --quick); the figures are medians.
// Prints a table, writes JSON (--json), and with --check exits 1 when a goal
// is missed. Never part of the test suite's verdict: the suite runs --quick
// only to keep this program working.
//
// usage: kassa_bench_terminal --kassad PATH --kassa-hq PATH --store-config FILE --chain-config FILE
//            [--quick] [--check] [--customers N] [--queries N] [--creates N] [--uploads N]
//            [--binary-size LABEL=BYTES]... [--sqlite-mmap-mb N] [--drop-caches] [--dir DIR] [--keep]
//            [--json FILE] [--plaintext] [--compact-after-load]
//            [--memory-limit SIZE]... [--limited-runs N]
// --plaintext: kassa's store without encryption at rest, the comparison
// column of docs/PERFORMANCE.md (kassad always seals, so its start, memory
// and upload are measured only without it).
// --compact-after-load: the loaded file rewritten with only its live pages
// (LMDB's compacting copy) before anything is measured, to tell what the
// free pages the load leaves cost.
// --drop-caches (root): also measure kassad's start with the page cache
// dropped before each start, and hold that one to the start goal.

#include <fcntl.h>
#include <lmdb.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "child_process.h"
#include "customer_json.h"
#include "dataset.h"
#include "kassa/base/log.h"
#include "kassa/base/system_clock.h"
#include "kassa/config/store_config_json.h"
#include "kassa/crypto/key_store.h"
#include "kassa/crypto/pin_hash.h"
#include "kassa/customers/access_recorder.h"
#include "kassa/model/phone.h"
#include "kassa/model/sync.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/search/customer_search.h"
#include "kassa/search/duplicates.h"
#include "kassa/storage/customer_store.h"
#include "latency.h"
#include "memory_limit.h"
#include "sqlite_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace m = kassa::model;
using kassa::Result;
using kassa::Status;
using kassa::bench::Latencies;
using kassa::bench::LatencySummary;
using kassa::bench::Timed;

struct Options {
  bool quick = false;
  bool check = false;
  bool keep = false;
  bool drop_caches = false;
  bool plaintext = false;
  bool compact_after_load = false;
  std::uint64_t customers = 1'000'000;
  std::uint64_t sqlite_mmap_mb = 0;
  int queries = 1000;
  int creates = 500;
  int uploads = 5000;
  int limited_runs = 3;
  std::vector<std::pair<std::string, std::uint64_t>> memory_limits;  // as typed, bytes
  std::string kassad, kassa_hq, store_config, chain_config, dir, json_path;
  std::vector<std::pair<std::string, std::uint64_t>> binary_sizes;
};

// The master key kassad uses for `data_dir` (its default --key-file), or
// none with --plaintext.
std::shared_ptr<kassa::crypto::KeyStore> KeysFor(const Options& o, const fs::path& data_dir);

constexpr int kLimit = 20;
constexpr std::uint64_t kLoadChunk = 10'000;
constexpr std::size_t kMapBytes = std::size_t{8} << 30;
constexpr int kStarts = 5;
const std::string kTerminal = "RIGA-01-T1";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "kassa_bench_terminal: %s\n", what.c_str());
  std::exit(2);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Fail(what + ": " + kassa::StatusCodeName(r.status().code()) + ": " + r.status().detail());
  return std::move(*r);
}
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Fail(what + ": " + kassa::StatusCodeName(s.code()) + ": " + s.detail());
}

// ---- the report --------------------------------------------------------------

struct Report {
  json::object root;
  std::vector<std::string> missed;  // goals missed, one sentence each

  void Latency(const std::string& name, const LatencySummary& s) {
    root[name] = json::object{{"p50_us", s.p50_us}, {"p99_us", s.p99_us}, {"max_us", s.max_us},
                              {"samples", s.samples}};
  }
  void Goal(const std::string& name, double value, double limit, const std::string& unit) {
    const bool met = value <= limit;
    root["goals"].as_object()[name] = json::object{{"value", value}, {"limit", limit}, {"met", met}};
    std::printf("  %-52s %10.3f %-4s (goal <= %.3f) %s\n", name.c_str(), value, unit.c_str(), limit,
                met ? "met" : "MISSED");
    if (!met) missed.push_back(name);
  }
};

void PrintLatency(const char* what, const LatencySummary& s) {
  std::printf("  %-34s p50 %9.1f us  p99 %9.1f us  max %9.1f us  (%zu)\n", what, s.p50_us, s.p99_us, s.max_us,
              s.samples);
}

// The create operation of `c`, as CustomerService makes it.
m::Operation CreateOperation(const m::Customer& c) {
  m::Operation op;
  op.op_id = c.id;
  op.kind = m::OperationKind::kCreateCustomer;
  op.enqueued_at_ms = c.changed_at_ms;
  op.customer = c;
  op.terminal_id = kTerminal;
  op.operator_id = "A100";  // an associate of RIGA-01 in config/chain.sample.json: headquarters checks
  // As kassad makes them (CustomerService::RecordConsents): one consent
  // ledger entry per contact created with its consent granted.
  op.consents = m::ConsentChanges(nullptr, c);
  for (m::ConsentEntry& e : op.consents) {
    e.id = Must(m::LocalId::Generate(), "entry id");
    e.at_ms = op.enqueued_at_ms;
    e.terminal_id = op.terminal_id;
    e.operator_id = op.operator_id;
  }
  return op;
}

// ---- queries -----------------------------------------------------------------

enum class QueryKind { kNamePrefix, kTwoTokens, kPhoneFragment, kEmail, kAccount, kCard };
constexpr QueryKind kQueryKinds[] = {QueryKind::kNamePrefix, QueryKind::kTwoTokens, QueryKind::kPhoneFragment,
                                     QueryKind::kEmail, QueryKind::kAccount, QueryKind::kCard};

const char* Name(QueryKind k) {
  switch (k) {
    case QueryKind::kNamePrefix: return "name prefix";
    case QueryKind::kTwoTokens: return "two name tokens, either order";
    case QueryKind::kPhoneFragment: return "phone fragment";
    case QueryKind::kEmail: return "email";
    case QueryKind::kAccount: return "account number";
    case QueryKind::kCard: return "loyalty card";
  }
  return "?";
}
const char* Key(QueryKind k) {
  switch (k) {
    case QueryKind::kNamePrefix: return "name_prefix";
    case QueryKind::kTwoTokens: return "two_tokens";
    case QueryKind::kPhoneFragment: return "phone_fragment";
    case QueryKind::kEmail: return "email";
    case QueryKind::kAccount: return "account";
    case QueryKind::kCard: return "loyalty_card";
  }
  return "?";
}

// The first `n` characters (not bytes) of UTF-8 `s`.
std::string Utf8Prefix(const std::string& s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t chars = 0; i < s.size() && chars < n; ++chars) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return s.substr(0, i);
}

struct Query {
  QueryKind kind;
  std::string text;
  std::uint64_t target;  // the customer the query was made from
};

// A query of `kind` made from a customer that has what it needs; nullopt when
// this customer has none (no phone, no card...).
std::optional<std::string> MakeQuery(QueryKind kind, const m::Customer& c, std::uint64_t salt) {
  switch (kind) {
    case QueryKind::kNamePrefix:
      if (c.last_name.empty()) return std::nullopt;
      return Utf8Prefix(c.last_name, 4);
    case QueryKind::kTwoTokens:
      if (c.last_name.empty() || c.first_name.empty()) return std::nullopt;
      return salt % 2 ? c.first_name + " " + c.last_name : c.last_name + " " + c.first_name;
    case QueryKind::kPhoneFragment:
      if (c.phone.empty()) return std::nullopt;
      return m::NationalNumberOf(c.phone).substr(0, 6);
    case QueryKind::kEmail:
      if (c.email.empty()) return std::nullopt;
      return c.email;
    case QueryKind::kAccount:
      return c.account;
    case QueryKind::kCard:
      if (c.loyalty_cards.empty()) return std::nullopt;
      return c.loyalty_cards.front();
  }
  return std::nullopt;
}

std::vector<Query> MakeQueries(const kassa::bench::Dataset& data, std::uint64_t customers, int per_kind) {
  std::vector<Query> out;
  std::uint64_t probe = 0x51ED;
  for (QueryKind kind : kQueryKinds) {
    for (int made = 0; made < per_kind;) {
      probe = probe * 6364136223846793005ull + 1442695040888963407ull;
      const std::uint64_t index = (probe >> 17) % customers;
      if (auto text = MakeQuery(kind, data.Customer(index), probe >> 7)) {
        out.push_back({kind, std::move(*text), index});
        ++made;
      }
    }
  }
  // Interleave the kinds, as associates' searches come.
  std::vector<Query> mixed;
  for (int i = 0; i < per_kind; ++i) {
    for (std::size_t k = 0; k < std::size(kQueryKinds); ++k) mixed.push_back(out[k * per_kind + i]);
  }
  return mixed;
}

Result<std::vector<kassa::bench::SqliteRow>> SqliteQuery(kassa::bench::SqliteBaseline& db, const Query& q) {
  switch (q.kind) {
    case QueryKind::kNamePrefix:
    case QueryKind::kTwoTokens: return db.SearchNames(q.text, kLimit);
    case QueryKind::kPhoneFragment: return db.SearchPhonePrefix(q.text, kLimit);
    case QueryKind::kEmail: return db.FindEmail(q.text, kLimit);
    case QueryKind::kAccount: return db.FindAccount(q.text, kLimit);
    case QueryKind::kCard: return db.FindCard(q.text, kLimit);
  }
  return Status(kassa::StatusCode::kInternal, "unknown query kind");
}

bool Exact(QueryKind k) { return k == QueryKind::kEmail || k == QueryKind::kAccount || k == QueryKind::kCard; }

// ---- the floor: bare LMDB ----------------------------------------------------

struct BareLmdb {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  ~BareLmdb() {
    if (env) mdb_env_close(env);
  }
};

void MustMdb(int rc, const char* what) {
  if (rc != MDB_SUCCESS) Fail(std::string(what) + ": " + mdb_strerror(rc));
}

// Synced puts of a `value_bytes` record under a new random 16-byte key, one
// transaction each, into database `db_name` of the environment in `dir` (an
// empty environment's unnamed database when `db_name` is null).
class BarePuts {
 public:
  BarePuts(const std::string& dir, const char* db_name, std::size_t value_bytes) : value_(value_bytes, 'v') {
    MustMdb(mdb_env_create(&b_.env), "bare env");
    MustMdb(mdb_env_set_mapsize(b_.env, kMapBytes), "bare mapsize");
    MustMdb(mdb_env_set_maxdbs(b_.env, 16), "bare maxdbs");
    MustMdb(mdb_env_open(b_.env, dir.c_str(), 0, 0644), "bare open");
    MDB_txn* txn = nullptr;
    MustMdb(mdb_txn_begin(b_.env, nullptr, 0, &txn), "bare begin");
    MustMdb(mdb_dbi_open(txn, db_name, db_name ? 0 : MDB_CREATE, &b_.dbi), "bare dbi");
    MustMdb(mdb_txn_commit(txn), "bare commit");
  }

  // One put, its time added to `into`.
  void TimedPut(Latencies& into) {
    const m::LocalId key = Must(m::LocalId::Generate(), "id");
    Timed(into, [&] {
      MDB_txn* txn = nullptr;
      MustMdb(mdb_txn_begin(b_.env, nullptr, 0, &txn), "bare begin");
      MDB_val k{key.bytes.size(), const_cast<std::uint8_t*>(key.bytes.data())}, v{value_.size(), value_.data()};
      MustMdb(mdb_put(txn, b_.dbi, &k, &v, MDB_NOOVERWRITE), "bare put");
      MustMdb(mdb_txn_commit(txn), "bare commit");
      return 0;
    });
  }

 private:
  BareLmdb b_;
  std::string value_;
};

// Copies the LMDB data file of `from` into directory `to`, synced, so that
// its writeback does not fall into what is timed next.
// Rewrites the closed environment in `dir` with only its live pages.
void CompactDataFile(const fs::path& dir) {
  BareLmdb b;
  MustMdb(mdb_env_create(&b.env), "env");
  MustMdb(mdb_env_set_maxdbs(b.env, 16), "maxdbs");
  MustMdb(mdb_env_set_mapsize(b.env, kMapBytes), "mapsize");
  MustMdb(mdb_env_open(b.env, dir.c_str(), 0, 0600), "open");
  const fs::path copy = dir / "data.mdb.compact";
  const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Fail("cannot create " + copy.string());
  MustMdb(mdb_env_copyfd2(b.env, fd, MDB_CP_COMPACT), "compacting copy");
  if (::fsync(fd) != 0) Fail("cannot sync " + copy.string());
  ::close(fd);
  fs::rename(copy, dir / "data.mdb");
}

void CopyDataFile(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::copy_file(from / "data.mdb", to / "data.mdb", fs::copy_options::overwrite_existing);
  const int fd = ::open((to / "data.mdb").c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) Fail("cannot sync the copy of " + (from / "data.mdb").string());
  ::close(fd);
}

// Gets of customer records by id straight from the store's "customers"
// database, with nothing of kassa in between.
LatencySummary BareGets(const std::string& dir, const kassa::bench::Dataset& data, std::uint64_t customers, int n) {
  BareLmdb b;
  MustMdb(mdb_env_create(&b.env), "env");
  MustMdb(mdb_env_set_maxdbs(b.env, 16), "maxdbs");
  MustMdb(mdb_env_open(b.env, dir.c_str(), MDB_RDONLY, 0644), "open read-only");
  MDB_txn* txn = nullptr;
  MustMdb(mdb_txn_begin(b.env, nullptr, MDB_RDONLY, &txn), "begin");
  MustMdb(mdb_dbi_open(txn, "customers", 0, &b.dbi), "dbi customers");
  MustMdb(mdb_txn_commit(txn), "commit (keeps the handle)");
  Latencies gets;
  std::uint64_t probe = 0x6E75;
  std::size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    probe = probe * 6364136223846793005ull + 1442695040888963407ull;
    const m::LocalId id = data.Customer((probe >> 17) % customers).id;
    Timed(gets, [&] {
      MDB_txn* t = nullptr;
      MustMdb(mdb_txn_begin(b.env, nullptr, MDB_RDONLY, &t), "begin");
      MDB_val k{id.bytes.size(), const_cast<std::uint8_t*>(id.bytes.data())}, v{};
      MustMdb(mdb_get(t, b.dbi, &k, &v), "get");
      bytes += v.mv_size;
      mdb_txn_abort(t);
      return 0;
    });
  }
  if (bytes == 0) Fail("bare gets read nothing");
  return gets.Summary();
}

double Mb(std::uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

std::uint64_t FileBytes(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

// ---- kassad as a process -----------------------------------------------------

std::string PercentEncode(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", ch);
    out += std::isalnum(ch) ? std::string(1, static_cast<char>(ch)) : std::string(hex);
  }
  return out;
}

// The operator the benchmark signs in as: searches need a signed-in operator.
constexpr const char* kBenchWorker = "BENCH";
constexpr const char* kBenchPin = "2468";

// Writes kassad's --clienteling file: one role that may do everything, one operator.
std::string WriteClientelingFile(const Options& o, const fs::path& dir) {
  m::StoreConfig store;
  if (!kassa::config::LoadStoreConfigFile(o.store_config, store).ok()) Fail("store configuration " + o.store_config + " (see log)");
  const std::string path = (dir / "clienteling.json").string();
  const std::string hash = Must(kassa::crypto::HashPin(kBenchPin, kassa::crypto::kMinPinIterations), "PIN hash");
  std::ofstream out(path);
  out << R"({"clienteling": {"roles": [{"id": "bench", "permissions": ["view_own_book", "create_customer"]}]},)"
      << R"( "operators": [{"worker_id": ")" << kBenchWorker << R"(", "name": "Benchmark", "stores": [")" << store.store_id
      << R"("], "role": "bench", "pin_hash": ")" << hash << R"("}]})" << '\n';
  if (!out.flush()) Fail("cannot write " + path);
  return path;
}

// Signs in at kassad on `port`; the session token.
std::string SignIn(std::uint16_t port) {
  const auto answer = Must(kassa::bench::HttpRequest(port, "POST", "/v1/session",
                                                     std::string(R"({"worker_id": ")") + kBenchWorker +
                                                         R"(", "pin": ")" + kBenchPin + R"("})",
                                                     ""),
                           "sign-in");
  const auto at = answer.body.find("\"token\":\"");
  if (answer.status != 201 || at == std::string::npos) {
    Fail("kassad's sign-in answered " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200));
  }
  return answer.body.substr(at + 9, 32);
}

struct RunningKassad {
  Latencies::Clock::duration start_to_first_search;
  kassa::bench::ChildProcess process;
  std::uint16_t port;
  std::string token;
};

// Starts kassad over `data_dir` and returns the time until its first search
// answered (the operator's sign-in included), the running process, its API
// port and the session.
// Inside a memory control group when `cgroup_procs` names its procs file.
RunningKassad StartKassad(const Options& o, const fs::path& dir, const fs::path& data_dir, const std::string& name,
                          const std::string& cgroup_procs = "") {
  const std::string port_file = (dir / ("kassad." + name + ".port")).string();
  fs::remove(port_file);  // a start of the same name before
  const std::string clienteling = WriteClientelingFile(o, dir);
  const auto start = Latencies::Clock::now();
  auto kassad = Must(kassa::bench::ChildProcess::Start(
                         {o.kassad, "--data", data_dir.string(), "--config", o.store_config, "--clienteling",
                          clienteling, "--listen",
                          "127.0.0.1:0", "--port-file", port_file, "--map-size", std::to_string(kMapBytes >> 20),
                          "--terminal", kTerminal, "--log-level", "warning"},
                         (dir / "kassad.log").string(), cgroup_procs),
                     "start kassad");
  const std::uint16_t port =
      kassa::bench::PortIn(Must(kassad.WaitForPortFile(port_file, std::chrono::seconds(60)), "kassad's port"), "");
  std::string token = SignIn(port);
  const auto answer = Must(kassa::bench::HttpGet(port, "/v1/customers?q=Kaln", token), "first search");
  const auto elapsed = Latencies::Clock::now() - start;
  if (answer.status != 200 || answer.body.find("\"results\"") == std::string::npos) {
    Fail("kassad's first search answered " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200));
  }
  return {elapsed, std::move(kassad), port, std::move(token)};
}

// Writes every dirty page and drops the page cache (root only), so the next
// start reads the data file from the disk.
void DropPageCache() { Must(kassa::bench::DropPageCache(), "--drop-caches / --memory-limit"); }

// ---- the link, end to end --------------------------------------------------

// Queues `o.uploads` creations in a fresh terminal store, starts kassa-hq and
// then kassad pointed at it, and returns the seconds from kassad's start
// until its outbox is empty (every creation acknowledged after headquarters'
// durable commit, and the acknowledgement applied durably on the terminal).
// Checks that headquarters holds exactly that many customers.
double UploadToHeadquarters(const Options& o, const kassa::bench::Dataset& data, const fs::path& dir) {
  const fs::path terminal = dir / "upload", hq = dir / "hq";
  fs::create_directories(terminal);
  {
    auto store = Must(kassa::storage::CustomerStore::Open({terminal.string(), std::size_t{1} << 30, KeysFor(o, terminal), {}}),
                      "upload store");
    for (int i = 0; i < o.uploads; ++i) {
      const m::Customer c = data.NewCustomer(10'000'000 + static_cast<std::uint64_t>(i), kTerminal);
      const m::Operation op = CreateOperation(c);
      Must(store->customers().Create(c, &op), "queue a creation");
    }
  }
  m::StoreConfig store;
  if (!kassa::config::LoadStoreConfigFile(o.store_config, store).ok()) Fail("store configuration " + o.store_config);
  // Enrolment as an IT person does it: the chain CA, then the terminal's bundle.
  const std::string pki_log = (dir / "kassa-hq-pki.log").string();
  Must(kassa::bench::ChildProcess::Run({o.kassa_hq, "pki", "init", "--data", hq.string(), "--hq-name", "127.0.0.1"},
                                       pki_log),
       "kassa-hq pki init");
  const std::string bundle = (dir / "bundle").string();
  Must(kassa::bench::ChildProcess::Run({o.kassa_hq, "pki", "issue", "--data", hq.string(), "--terminal", kTerminal,
                                        "--store", store.store_id, "--out", bundle},
                                       pki_log),
       "kassa-hq pki issue");
  const std::string hq_ports = (dir / "hq.ports").string();
  auto headquarters = Must(kassa::bench::ChildProcess::Start(
                               {o.kassa_hq, "--data", hq.string(), "--config", o.chain_config, "--listen",
                                "127.0.0.1:0", "--admin", "127.0.0.1:0", "--port-file", hq_ports, "--log-level",
                                "warning", "--admin-token-file", (dir / "admin-token").string()},
                               (dir / "kassa-hq.log").string()),
                           "start kassa-hq");
  const std::string ports = Must(headquarters.WaitForPortFile(hq_ports, std::chrono::seconds(60)), "kassa-hq's ports");
  const std::uint16_t link = kassa::bench::PortIn(ports, "link"), admin = kassa::bench::PortIn(ports, "admin");
  if (link == 0 || admin == 0) Fail("kassa-hq's port file holds no link and admin ports: " + ports);

  const std::string port_file = (dir / "upload.port").string();
  const auto start = std::chrono::steady_clock::now();
  auto kassad = Must(kassa::bench::ChildProcess::Start(
                         {o.kassad, "--data", terminal.string(), "--config", o.store_config, "--hq",
                          "127.0.0.1:" + std::to_string(link), "--listen", "127.0.0.1:0", "--port-file", port_file,
                          "--terminal", kTerminal, "--log-level", "warning", "--link-bundle", bundle},
                         (dir / "kassad-upload.log").string()),
                     "start kassad");
  const std::uint16_t api =
      kassa::bench::PortIn(Must(kassad.WaitForPortFile(port_file, std::chrono::seconds(60)), "kassad's port"), "");
  const auto deadline = start + std::chrono::minutes(10);
  for (;;) {
    const auto outbox = Must(kassa::bench::HttpGet(api, "/v1/outbox"), "kassad's outbox");
    if (outbox.status != 200) Fail("GET /v1/outbox answered " + std::to_string(outbox.status));
    if (json::parse(outbox.body).at("length").to_number<std::int64_t>() == 0) break;
    if (std::chrono::steady_clock::now() > deadline) Fail("the outbox did not empty in 10 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string admin_token;
  std::getline(std::ifstream(dir / "admin-token"), admin_token);
  const auto status = Must(kassa::bench::HttpGet(admin, "/v1/status", admin_token), "kassa-hq's status");
  const auto held = json::parse(status.body).at("customers").to_number<std::int64_t>();
  if (held != o.uploads) {
    Fail("headquarters holds " + std::to_string(held) + " customers after uploading " + std::to_string(o.uploads));
  }
  return seconds;
}

// ---- memory-limited (issue 22) ---------------------------------------------

json::object SummaryJson(const LatencySummary& s) {
  return {{"p50_us", s.p50_us}, {"p99_us", s.p99_us}, {"max_us", s.max_us}, {"samples", s.samples}};
}

// What one side did in its group: every query's time, and the pages (4 KiB)
// the process read from the disk for it, by kind; the same for each create.
class LimitedSide {
 public:
  template <typename Body>
  void Query(QueryKind k, Body&& body) {
    const auto before = kassa::bench::ReadOwnIo();
    Timed(search_[k], body);
    const auto after = kassa::bench::ReadOwnIo();
    read_bytes_[k] += after.read_bytes - before.read_bytes;
    faults_[k] += after.major_faults - before.major_faults;
    ++queries_[k];
  }
  template <typename Body>
  void Create(Body&& body) {
    const auto before = kassa::bench::ReadOwnIo();
    Timed(create_, body);
    const auto after = kassa::bench::ReadOwnIo();
    create_read_bytes_ += after.read_bytes - before.read_bytes;
    ++creates_;
  }
  // {"search": {kind: {p50_us, p99_us, max_us, samples, pages_read}}, "create": {..., pages_read}}
  std::string Report() const {
    json::object search;
    for (const auto& [k, latencies] : search_) {
      json::object o = SummaryJson(latencies.Summary());
      o["pages_read"] = static_cast<double>(read_bytes_.at(k)) / 4096.0 / queries_.at(k);
      o["major_faults"] = static_cast<double>(faults_.at(k)) / queries_.at(k);
      search[Key(k)] = std::move(o);
    }
    json::object create = SummaryJson(create_.Summary());
    create["pages_read"] = creates_ ? static_cast<double>(create_read_bytes_) / 4096.0 / creates_ : 0.0;
    return json::serialize(json::object{{"search", std::move(search)}, {"create", std::move(create)}});
  }

 private:
  std::map<QueryKind, Latencies> search_;
  std::map<QueryKind, std::uint64_t> read_bytes_, faults_;
  std::map<QueryKind, int> queries_;
  Latencies create_;
  std::uint64_t create_read_bytes_ = 0;
  int creates_ = 0;
};

// kassa's side, in the child: the store opened cold, every query, then the
// durable creates of `fresh`.
std::string KassaLimited(const Options& o, const fs::path& terminal_dir, const kassa::bench::Dataset& data,
                         const std::vector<Query>& queries, const std::vector<m::Customer>& fresh) {
  auto store = Must(kassa::storage::CustomerStore::Open({terminal_dir.string(), kMapBytes, KeysFor(o, terminal_dir), {}}),
                    "open store (limited)");
  LimitedSide side;
  for (const Query& q : queries) {
    std::vector<kassa::search::SearchResult> found;
    side.Query(q.kind, [&] {
      found = Must(kassa::search::SearchCustomers(store->customers(), q.text, kLimit, "LV"), "search " + q.text);
      return 0;
    });
    const m::LocalId target = data.Customer(q.target).id;
    if (Exact(q.kind) && std::none_of(found.begin(), found.end(), [&](const auto& r) { return r.customer.id == target; })) {
      Fail(std::string("kassa's search under the memory limit missed the customer of an exact ") + Name(q.kind) + " query");
    }
  }
  for (const m::Customer& c : fresh) {
    const m::Operation op = CreateOperation(c);
    side.Create([&] { Must(store->customers().Create(c, &op), "create (limited)"); return 0; });
  }
  return side.Report();
}

// SQLite's side, in the child: the same.
std::string SqliteLimited(const Options& o, const fs::path& db, const std::vector<Query>& queries,
                          const std::vector<m::Customer>& fresh) {
  auto sqlite = Must(kassa::bench::SqliteBaseline::Open(db.string(), o.sqlite_mmap_mb << 20), "open SQLite (limited)");
  LimitedSide side;
  for (const Query& q : queries) {
    side.Query(q.kind, [&] { return Must(SqliteQuery(*sqlite, q), "SQLite " + q.text).size(); });
  }
  for (const m::Customer& c : fresh) {
    side.Create([&] { Must(sqlite->CreateDurable(c), "SQLite create (limited)"); return 0; });
  }
  return side.Report();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The median over `runs` of the number at `path` ("search", "email", "p99_us").
double MedianOf(const std::vector<json::value>& runs, std::initializer_list<const char*> path) {
  std::vector<double> values;
  for (const json::value& run : runs) {
    const json::value* v = &run;
    for (const char* key : path) v = &v->as_object().at(key);
    values.push_back(v->to_number<double>());
  }
  return Median(values);
}

// Every limited run at `limit_bytes`: {"kassa": [run...], "sqlite": [...],
// "start_ms": [...], "peak_bytes": {...}} with each run's report.
struct LimitedRuns {
  std::vector<json::value> kassa, sqlite;
  std::vector<double> start_ms;
  std::uint64_t kassa_peak = 0, sqlite_peak = 0, kassad_peak = 0;
};

LimitedRuns RunLimited(const Options& o, const fs::path& dir, const fs::path& terminal_dir,
                       const kassa::bench::Dataset& data, const std::vector<Query>& queries,
                       const std::string& label, std::uint64_t limit_bytes, std::uint64_t first_new) {
  LimitedRuns runs;
  for (int run = 0; run < o.limited_runs; ++run) {
    std::vector<m::Customer> fresh;
    for (int i = 0; i < o.creates; ++i) {
      fresh.push_back(data.NewCustomer(first_new + static_cast<std::uint64_t>(run * o.creates + i), kTerminal));
    }
    std::printf("  %s, run %d of %d: kassa", label.c_str(), run + 1, o.limited_runs);
    {
      DropPageCache();
      const auto group = Must(kassa::bench::MemoryCgroup::Create("kassa-bench-kassa", limit_bytes), "memory cgroup");
      runs.kassa.push_back(json::parse(Must(
          kassa::bench::RunInGroup(group, [&] { return KassaLimited(o, terminal_dir, data, queries, fresh); }),
          "kassa under " + label)));
      runs.kassa_peak = std::max(runs.kassa_peak, group.PeakBytes());
    }
    std::printf(", SQLite");
    {
      DropPageCache();
      const auto group = Must(kassa::bench::MemoryCgroup::Create("kassa-bench-sqlite", limit_bytes), "memory cgroup");
      runs.sqlite.push_back(json::parse(Must(
          kassa::bench::RunInGroup(group, [&] { return SqliteLimited(o, dir / "sqlite.db", queries, fresh); }),
          "SQLite under " + label)));
      runs.sqlite_peak = std::max(runs.sqlite_peak, group.PeakBytes());
    }
    std::printf(", kassad's start\n");
    Latencies starts;
    for (int start = 0; start < 3; ++start) {
      DropPageCache();
      const auto group = Must(kassa::bench::MemoryCgroup::Create("kassa-bench-kassad", limit_bytes), "memory cgroup");
      {
        RunningKassad kassad = StartKassad(o, dir, terminal_dir, "limited", group.ProcsFile());
        starts.Add(kassad.start_to_first_search);
      }
      runs.kassad_peak = std::max(runs.kassad_peak, group.PeakBytes());
    }
    runs.start_ms.push_back(starts.Summary().p50_us / 1000);
  }
  return runs;
}

// Prints the limited table beside the unlimited figures of the same run and
// returns it as JSON (LimitedGoals reads it).
json::object ReportLimited(const std::string& label, const LimitedRuns& runs,
                           const std::map<QueryKind, Latencies>& unlimited) {
  std::printf("\nmemory limit %s (medians of %zu run(s); the page cache dropped before each side; "
              "pages = 4 KiB read from the disk per query)\n",
              label.c_str(), runs.kassa.size());
  std::printf("  %-30s %-19s %-19s %-19s %6s %8s %8s\n", "", "kassa unlimited", "kassa limited", "SQLite limited",
              "p99 x", "pages k", "pages S");
  std::printf("  %-30s %-19s %-19s %-19s\n", "", "p50/p99 us", "p50/p99 us", "p50/p99 us");
  json::object search;
  for (QueryKind k : kQueryKinds) {
    const LatencySummary u = unlimited.at(k).Summary();
    const double kp50 = MedianOf(runs.kassa, {"search", Key(k), "p50_us"}),
                 kp99 = MedianOf(runs.kassa, {"search", Key(k), "p99_us"}),
                 sp50 = MedianOf(runs.sqlite, {"search", Key(k), "p50_us"}),
                 sp99 = MedianOf(runs.sqlite, {"search", Key(k), "p99_us"}),
                 kpages = MedianOf(runs.kassa, {"search", Key(k), "pages_read"}),
                 spages = MedianOf(runs.sqlite, {"search", Key(k), "pages_read"});
    std::printf("  %-30s %8.0f/%-10.0f %8.0f/%-10.0f %8.0f/%-10.0f %6.3f %8.2f %8.2f\n", Name(k), u.p50_us, u.p99_us,
                kp50, kp99, sp50, sp99, kp99 / sp99, kpages, spages);
    search[Key(k)] = json::object{{"kassa", {{"p50_us", kp50}, {"p99_us", kp99}, {"pages_read", kpages}}},
                                  {"sqlite", {{"p50_us", sp50}, {"p99_us", sp99}, {"pages_read", spages}}},
                                  {"p99_ratio", kp99 / sp99}};
  }
  const double kc50 = MedianOf(runs.kassa, {"create", "p50_us"}), kc99 = MedianOf(runs.kassa, {"create", "p99_us"}),
               sc50 = MedianOf(runs.sqlite, {"create", "p50_us"}), sc99 = MedianOf(runs.sqlite, {"create", "p99_us"}),
               kcp = MedianOf(runs.kassa, {"create", "pages_read"}), scp = MedianOf(runs.sqlite, {"create", "pages_read"});
  std::printf("  %-30s %-19s %8.0f/%-10.0f %8.0f/%-10.0f %6.3f %8.2f %8.2f\n", "durable create", "", kc50, kc99, sc50,
              sc99, kc99 / sc99, kcp, scp);
  // kassa's slowest create is one that folds the recent index (every
  // RecentIndex::kFoldAt creations): under a limit its index leaves are cold.
  const double kcmax = MedianOf(runs.kassa, {"create", "max_us"}), scmax = MedianOf(runs.sqlite, {"create", "max_us"});
  std::printf("  %-30s %-19s %19.0f %19.0f\n", "durable create, max (us)", "", kcmax, scmax);
  const double start = Median(runs.start_ms);
  std::printf("  kassad start to first answer, cold: %.1f ms (median of runs' p50 of 3 starts)\n", start);
  std::printf("  peak memory of the groups: kassa %.1f MB, SQLite %.1f MB, kassad %.1f MB\n", Mb(runs.kassa_peak),
              Mb(runs.sqlite_peak), Mb(runs.kassad_peak));
  json::array kassa_runs(runs.kassa.begin(), runs.kassa.end()), sqlite_runs(runs.sqlite.begin(), runs.sqlite.end());
  return {{"search", std::move(search)},
          {"create", {{"kassa", {{"p50_us", kc50}, {"p99_us", kc99}, {"max_us", kcmax}, {"pages_read", kcp}}},
                      {"sqlite", {{"p50_us", sc50}, {"p99_us", sc99}, {"max_us", scmax}, {"pages_read", scp}}}}},
          {"start_cold_ms", start},
          {"peak_bytes", {{"kassa", runs.kassa_peak}, {"sqlite", runs.sqlite_peak}, {"kassad", runs.kassad_peak}}},
          {"runs", {{"kassa", std::move(kassa_runs)}, {"sqlite", std::move(sqlite_runs)}}}};
}

// The goals of issue 22 at one limit, from ReportLimited's JSON.
void LimitedGoals(const std::string& label, const json::object& limited, Report& report) {
  for (QueryKind k : kQueryKinds) {
    const auto& kind = limited.at("search").at(Key(k)).as_object();
    report.Goal(label + ": search p99 / SQLite p99, " + Name(k), kind.at("p99_ratio").as_double(), 0.5, "x");
    report.Goal(label + ": search p99, " + Name(k), kind.at("kassa").at("p99_us").as_double() / 1000, 5.0, "ms");
  }
  report.Goal(label + ": durable create p99", limited.at("create").at("kassa").at("p99_us").as_double() / 1000, 20.0,
              "ms");
  report.Goal(label + ": kassad start to first answer, cold", limited.at("start_cold_ms").as_double(), 500.0, "ms");
}

// ---- the run -----------------------------------------------------------------

std::shared_ptr<kassa::crypto::KeyStore> KeysFor(const Options& o, const fs::path& data_dir) {
  if (o.plaintext) return nullptr;
  return Must(kassa::crypto::FileKeyStore::Open(data_dir.string() + ".key", data_dir.string()), "key file");
}

Options Parse(int argc, char** argv) {
  Options o;
  bool sized = false, limited_runs_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + " needs a value");
      return argv[++i];
    };
    const auto number = [&]() -> std::uint64_t {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n == 0) Fail(a + " takes a positive number, not \"" + v + "\"");
      return n;
    };
    if (a == "--quick") o.quick = true;
    else if (a == "--check") o.check = true;
    else if (a == "--keep") o.keep = true;
    else if (a == "--drop-caches") o.drop_caches = true;
    else if (a == "--plaintext") o.plaintext = true;
    else if (a == "--compact-after-load") o.compact_after_load = true;
    else if (a == "--customers") o.customers = number(), sized = true;
    else if (a == "--queries") o.queries = static_cast<int>(number());
    else if (a == "--creates") o.creates = static_cast<int>(number());
    else if (a == "--uploads") o.uploads = static_cast<int>(number());
    else if (a == "--sqlite-mmap-mb") o.sqlite_mmap_mb = number();
    else if (a == "--limited-runs") o.limited_runs = static_cast<int>(number()), limited_runs_given = true;
    else if (a == "--memory-limit") {
      const std::string v = value();
      const auto bytes = kassa::bench::ParseMemorySize(v);
      if (!bytes.ok()) Fail("--memory-limit " + v + ": " + bytes.status().detail());
      if (*bytes < (std::uint64_t{32} << 20)) Fail("--memory-limit " + v + ": below 32M no process of kassa's starts");
      o.memory_limits.emplace_back(v, *bytes);
    }
    else if (a == "--kassad") o.kassad = value();
    else if (a == "--kassa-hq") o.kassa_hq = value();
    else if (a == "--store-config") o.store_config = value();
    else if (a == "--chain-config") o.chain_config = value();
    else if (a == "--dir") o.dir = value();
    else if (a == "--json") o.json_path = value();
    else if (a == "--binary-size") {
      const std::string v = value();
      const auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) Fail("--binary-size takes LABEL=BYTES");
      o.binary_sizes.emplace_back(v.substr(0, eq), std::strtoull(v.c_str() + eq + 1, nullptr, 10));
    } else {
      Fail("unknown argument " + a + " (see the comment at the top of terminal_bench.cc)");
    }
  }
  if (o.quick) {
    if (!sized) o.customers = 20'000;
    o.queries = std::min(o.queries, 200);
    o.creates = std::min(o.creates, 100);
    o.uploads = std::min(o.uploads, 500);
    if (!limited_runs_given) o.limited_runs = 1;
  }
  const std::pair<const char*, const std::string*> required[] = {
      {"--kassad", &o.kassad}, {"--kassa-hq", &o.kassa_hq}, {"--store-config", &o.store_config},
      {"--chain-config", &o.chain_config}};
  for (const auto& [flag, v] : required) {
    if (v->empty()) Fail(std::string(flag) + " is required");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  kassa::SetLogLevel(kassa::LogLevel::kWarning);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  const Options o = Parse(argc, argv);
  fs::path dir = o.dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/kassa-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Fail("cannot make a temporary directory");
    dir = tmpl;
  }
  const fs::path terminal_dir = dir / "terminal";
  fs::create_directories(terminal_dir);
  const kassa::bench::Dataset data({});
  Report report;
  report.root["goals"] = json::object{};
  report.root["customers"] = o.customers;
  report.root["sqlite_mmap_mb"] = o.sqlite_mmap_mb;
  report.root["encrypted_at_rest"] = !o.plaintext;
  std::printf("kassa terminal benchmark: %" PRIu64 " customers%s, %d queries of each kind, %d creates%s; SQLite %s\n",
              o.customers, o.plaintext ? " in plaintext" : " sealed at rest", o.queries, o.creates,
              o.quick ? " (--quick)" : "",
              o.sqlite_mmap_mb ? ("with mmap_size " + std::to_string(o.sqlite_mmap_mb) + " MiB").c_str()
                               : "with its default page cache");

  // 1. Load.
  auto store = Must(kassa::storage::CustomerStore::Open({terminal_dir.string(), kMapBytes, KeysFor(o, terminal_dir), {}}),
                    "open store");
  auto sqlite = Must(kassa::bench::SqliteBaseline::Create((dir / "sqlite.db").string(), o.sqlite_mmap_mb << 20),
                     "create SQLite");
  {
    const auto start = std::chrono::steady_clock::now();
    double kassa_s = 0, sqlite_s = 0;
    for (std::uint64_t first = 0; first < o.customers; first += kLoadChunk) {
      std::vector<m::Change> changes;
      std::vector<m::Customer> customers;
      for (std::uint64_t i = first; i < std::min(o.customers, first + kLoadChunk); ++i) {
        customers.push_back(data.Customer(i));
        changes.push_back({i + 1, m::Change::Kind::kCustomerUpsert, customers.back(), {}, {}, {}});
      }
      auto t0 = std::chrono::steady_clock::now();
      Must(store->sync().ApplyDistribution(changes), "load kassa");
      auto t1 = std::chrono::steady_clock::now();
      Must(sqlite->Load(customers), "load SQLite");
      auto t2 = std::chrono::steady_clock::now();
      kassa_s += std::chrono::duration<double>(t1 - t0).count();
      sqlite_s += std::chrono::duration<double>(t2 - t1).count();
    }
    std::printf("\nload (as headquarters' distribution): kassa %.1f s (%.0f customers/s), SQLite %.1f s; total %.1f s\n",
                kassa_s, static_cast<double>(o.customers) / kassa_s, sqlite_s,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    report.root["load_seconds"] = json::object{{"kassa", kassa_s}, {"sqlite", sqlite_s}};
  }
  if (o.compact_after_load) {
    store.reset();
    const std::uint64_t before = FileBytes(terminal_dir / "data.mdb");
    CompactDataFile(terminal_dir);
    std::printf("compacted after the load: %.1f MB -> %.1f MB\n", Mb(before), Mb(FileBytes(terminal_dir / "data.mdb")));
    store = Must(kassa::storage::CustomerStore::Open({terminal_dir.string(), kMapBytes, KeysFor(o, terminal_dir), {}}),
                 "reopen store");
  }

  // 2. Search.
  std::printf("\nsearch (up to %d customers returned, read in full)\n", kLimit);
  const auto queries = MakeQueries(data, o.customers, o.queries);
  std::map<QueryKind, Latencies> kassa_search, sqlite_search;
  std::map<QueryKind, int> kassa_missed, sqlite_missed, kassa_empty, sqlite_empty;
  for (const Query& q : queries) {
    const m::LocalId target = data.Customer(q.target).id;
    const auto found = Timed(kassa_search[q.kind], [&] {
      return Must(kassa::search::SearchCustomers(store->customers(), q.text, kLimit, "LV"), "search " + q.text);
    });
    const auto rows = Timed(sqlite_search[q.kind], [&] { return Must(SqliteQuery(*sqlite, q), "SQLite " + q.text); });
    if (found.empty()) ++kassa_empty[q.kind];
    if (rows.empty()) ++sqlite_empty[q.kind];
    if (Exact(q.kind)) {
      if (std::none_of(found.begin(), found.end(), [&](const auto& r) { return r.customer.id == target; })) {
        ++kassa_missed[q.kind];
      }
      if (std::none_of(rows.begin(), rows.end(), [&](const auto& r) { return r.id_hex == target.ToHex(); })) {
        ++sqlite_missed[q.kind];
      }
    }
  }
  json::object search_json;
  for (QueryKind k : kQueryKinds) {
    const LatencySummary ks = kassa_search[k].Summary(), ss = sqlite_search[k].Summary();
    std::printf("  %s\n", Name(k));
    PrintLatency("    kassa", ks);
    PrintLatency("    SQLite", ss);
    if (kassa_empty[k] || sqlite_empty[k] || kassa_missed[k] || sqlite_missed[k]) {
      std::printf("    empty answers: kassa %d, SQLite %d; target missing: kassa %d, SQLite %d\n", kassa_empty[k],
                  sqlite_empty[k], kassa_missed[k], sqlite_missed[k]);
    }
    search_json[Key(k)] = json::object{
        {"kassa", {{"p50_us", ks.p50_us}, {"p99_us", ks.p99_us}, {"max_us", ks.max_us}}},
        {"sqlite", {{"p50_us", ss.p50_us}, {"p99_us", ss.p99_us}, {"max_us", ss.max_us}}},
        {"p99_ratio", ks.p99_us / ss.p99_us},
        {"kassa_target_missing", kassa_missed[k]}};
    if (kassa_missed[k] > 0) Fail(std::string("kassa's search missed the customer of an exact ") + Name(k) + " query");
  }
  report.root["search"] = std::move(search_json);

  // 2b. What the access audit adds to a search through kassad's API: each
  // customer a search returned recorded (customers::AccessRecorder, in
  // memory), and the writes that take the events to the queue, 256 at a time
  // (kassad writes once a second, or at once when 256 wait).
  {
    boost::asio::io_context io;
    kassa::SystemClock clock;
    constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();
    kassa::customers::AccessRecorder recorder(io.get_executor(), store->access_events(), clock, nullptr,
                                              {std::chrono::hours(1), kNever, kNever});
    Latencies plain, recorded, record_only, writes;
    std::size_t events = 0;
    bool plain_first = true;  // alternated, so neither side always finds the other's pages cached
    for (const Query& q : queries) {
      const auto search = [&] {
        Timed(plain, [&] { return Must(kassa::search::SearchCustomers(store->customers(), q.text, kLimit, "LV"), q.text); });
      };
      const auto search_and_record = [&] {
        Timed(recorded, [&] {
          auto found = Must(kassa::search::SearchCustomers(store->customers(), q.text, kLimit, "LV"), q.text);
          std::vector<m::LocalId> ids;
          ids.reserve(found.size());
          for (const auto& r : found) ids.push_back(r.customer.id);
          Timed(record_only, [&] {
            recorder.Record(m::AccessAction::kListed, "A1", ids);
            return 0;
          });
          return found;
        });
      };
      if (plain_first) {
        search();
        search_and_record();
      } else {
        search_and_record();
        search();
      }
      plain_first = !plain_first;
      if (recorder.waiting() >= 256) {
        events += recorder.waiting();
        Timed(writes, [&] { Must(recorder.Flush(), "write access events"); return 0; });
      }
    }
    const LatencySummary ps = plain.Summary(), rs = recorded.Summary(), ro = record_only.Summary(),
                         ws = writes.Summary();
    std::printf("\naccess audit: every search again, recording the customers it returned\n");
    PrintLatency("  search", ps);
    PrintLatency("  search and record", rs);
    PrintLatency("  the recording alone", ro);
    PrintLatency("  write of 256+ events", ws);
    std::printf("  %zu events written; p99 with / without: %.3f\n", events, rs.p99_us / ps.p99_us);
    report.Latency("search_plain_again", ps);
    report.Latency("search_recorded", rs);
    report.Latency("access_record_only", ro);
    report.Latency("access_event_write", ws);
    report.root["access_audit"] = json::object{{"events_written", events}, {"p99_ratio", rs.p99_us / ps.p99_us}};
    Must(store->access_events().DropAccessEvents(std::numeric_limits<std::uint64_t>::max()), "drop access events");
  }

  // 3. Durable create, against the floor on the same data: a bare put into
  // the customers database of a copy of the same 1M-customer file (same tree
  // depth, same free list); and, for reference, into an empty environment.
  // The four alternate create by create, so machine noise falls on all.
  std::printf("\ndurable create (one synced transaction each)\n");
  std::vector<m::Customer> fresh;
  std::size_t record_bytes = 0;
  for (int i = 0; i < o.creates; ++i) {
    fresh.push_back(data.NewCustomer(static_cast<std::uint64_t>(i), kTerminal));
    record_bytes += Must(kassa::proto_codec::EncodeCustomer(fresh.back()), "encode").size();
  }
  const std::size_t mean_record = record_bytes / fresh.size();
  Latencies search_before;  // every query, kassa alone, before the creations
  for (const Query& q : queries) {
    Timed(search_before, [&] { return Must(kassa::search::SearchCustomers(store->customers(), q.text, kLimit, "LV"), q.text); });
  }
  // The likely-duplicates check the API runs before every creation
  // (search/duplicates.h), on the same new customers: its cost is added to a
  // create's on the screens.
  Latencies duplicate_check;
  std::size_t flagged = 0;
  for (const m::Customer& c : fresh) {
    flagged += Timed(duplicate_check, [&] {
      return Must(kassa::search::FindDuplicates(store->customers(), c, {}), "duplicate check").empty() ? 0 : 1;
    });
  }
  store.reset();  // the file is copied closed
  CopyDataFile(terminal_dir, dir / "floor");
  store = Must(kassa::storage::CustomerStore::Open({terminal_dir.string(), kMapBytes, KeysFor(o, terminal_dir), {}}),
               "reopen store");
  fs::create_directories(dir / "bare");
  BarePuts floor_puts((dir / "floor").string(), "customers", mean_record);
  BarePuts empty_file_puts((dir / "bare").string(), nullptr, mean_record);
  Latencies kassa_create, sqlite_create, floor_put, empty_file_put;
  for (const m::Customer& c : fresh) {
    const m::Operation op = CreateOperation(c);
    Timed(kassa_create, [&] { Must(store->customers().Create(c, &op), "create"); return 0; });
    floor_puts.TimedPut(floor_put);
    Timed(sqlite_create, [&] { Must(sqlite->CreateDurable(c), "SQLite create"); return 0; });
    empty_file_puts.TimedPut(empty_file_put);
  }
  // What the recent index (the entries of creations not yet folded into the
  // index) costs a search: every query again with the last creations waiting.
  const std::uint64_t waiting = Must(store->diagnostics().Stats(), "stats").recent_index_customers;
  Latencies search_with_recent;
  for (const Query& q : queries) {
    Timed(search_with_recent, [&] { return Must(kassa::search::SearchCustomers(store->customers(), q.text, kLimit, "LV"), q.text); });
  }
  store.reset();
  sqlite.reset();
  fs::remove_all(dir / "floor");
  const LatencySummary bare_put = floor_put.Summary(), bare_put_empty = empty_file_put.Summary();
  const LatencySummary kc = kassa_create.Summary(), sc = sqlite_create.Summary();
  PrintLatency("kassa create", kc);
  PrintLatency("SQLite create", sc);
  PrintLatency("bare LMDB synced put, same file", bare_put);
  PrintLatency("bare LMDB synced put, empty file", bare_put_empty);
  report.Latency("create_kassa", kc);
  report.Latency("create_sqlite", sc);
  report.Latency("bare_lmdb_put", bare_put);
  report.Latency("bare_lmdb_put_empty_file", bare_put_empty);
  const LatencySummary dc = duplicate_check.Summary();
  std::printf("  likely-duplicates check before each create (%zu of %zu new customers flagged):\n", flagged, fresh.size());
  PrintLatency("    duplicate check", dc);
  report.Latency("duplicate_check", dc);
  const LatencySummary sb = search_before.Summary(), sr = search_with_recent.Summary();
  std::printf("  search, every kind, before the creations and with %" PRIu64 " of them waiting in the recent index:\n",
              waiting);
  PrintLatency("    before", sb);
  PrintLatency("    with recent", sr);
  report.Latency("search_before_creates", sb);
  report.Latency("search_with_recent_creates", sr);
  report.root["recent_index_customers"] = waiting;

  // 4. Bare get.
  const LatencySummary bare_get = BareGets(terminal_dir.string(), data, o.customers, o.queries * 6);
  PrintLatency("bare LMDB get of a customer", bare_get);
  report.Latency("bare_lmdb_get", bare_get);

  // 5. kassad at N customers.
  std::printf("\nkassad over the same %" PRIu64 " customers\n", o.customers);
  Latencies warm_start, cold_start;
  kassa::bench::ChildProcess::Memory memory;
  if (o.plaintext) std::printf("  not measured with --plaintext: kassad always seals\n");
  for (int run = 0; run < (o.plaintext ? 0 : kStarts); ++run) {
    RunningKassad kassad = StartKassad(o, dir, terminal_dir, "warm" + std::to_string(run));
    warm_start.Add(kassad.start_to_first_search);
    if (run == kStarts - 1) {
      for (const Query& q : queries) {
        const auto a = Must(kassa::bench::HttpGet(kassad.port, "/v1/customers?q=" + PercentEncode(q.text), kassad.token),
                            "search");
        if (a.status != 200) Fail("search over HTTP answered " + std::to_string(a.status) + ": " + a.body);
      }
      memory = Must(kassad.process.ReadMemory(), "kassad's memory");
    }
  }
  if (!o.plaintext) {
    const LatencySummary ws = warm_start.Summary();
    std::printf("  start to first search answer, page cache warm: p50 %.1f ms, max %.1f ms (%d starts)\n",
                ws.p50_us / 1000, ws.max_us / 1000, kStarts);
    report.Latency("start_page_cache_warm", ws);
  }
  if (o.drop_caches && !o.plaintext) {
    for (int run = 0; run < kStarts; ++run) {
      DropPageCache();
      cold_start.Add(StartKassad(o, dir, terminal_dir, "cold" + std::to_string(run)).start_to_first_search);
    }
    const LatencySummary cs = cold_start.Summary();
    std::printf("  start to first search answer, page cache dropped: p50 %.1f ms, max %.1f ms (%d starts)\n",
                cs.p50_us / 1000, cs.max_us / 1000, kStarts);
    report.Latency("start_page_cache_dropped", cs);
  }
  if (!o.plaintext) {
    std::printf("  memory after %zu searches: anonymous %.2f MB, file-backed %.1f MB, peak total %.1f MB\n",
                queries.size(), Mb(memory.anonymous), Mb(memory.file), Mb(memory.peak_total));
  }
  const std::uint64_t data_bytes = FileBytes(terminal_dir / "data.mdb");
  const std::uint64_t sqlite_bytes = FileBytes(dir / "sqlite.db") + FileBytes(dir / "sqlite.db-wal");
  std::printf("  data file: kassa %.1f MB, SQLite %.1f MB (with its WAL)\n", Mb(data_bytes), Mb(sqlite_bytes));
  report.root["memory_bytes"] = json::object{{"anonymous", memory.anonymous}, {"file", memory.file},
                                             {"peak_total", memory.peak_total}};
  report.root["data_file_bytes"] = json::object{{"kassa", data_bytes}, {"sqlite", sqlite_bytes}};
  json::object sizes;
  for (const auto& [label, bytes] : o.binary_sizes) {
    std::printf("  kassad stripped, %s: %" PRIu64 " bytes\n", label.c_str(), bytes);
    sizes[label] = bytes;
  }
  report.root["kassad_stripped_bytes"] = std::move(sizes);

  // 6. The link.
  std::printf("\nthe link\n");
  {
    std::size_t batch_bytes = 0, json_bytes = 0;
    constexpr int kBatch = 64;
    for (int i = 0; i < kBatch; ++i) {
      const m::Operation op = CreateOperation(data.NewCustomer(static_cast<std::uint64_t>(100'000 + i), kTerminal));
      kassa::Bytes batch;
      Must(kassa::proto_codec::AppendUploadOperation(op, kTerminal, batch), "encode batch");
      batch_bytes += batch.size();
      json_bytes += kassa::bench::CompactJson(op).size();
    }
    const double per_customer = static_cast<double>(batch_bytes) / kBatch;
    const double ratio = static_cast<double>(batch_bytes) / static_cast<double>(json_bytes);
    std::printf("  upload batch: %.0f bytes per customer, compact JSON %.0f: ratio %.3f\n", per_customer,
                static_cast<double>(json_bytes) / kBatch, ratio);
    report.root["wire"] = json::object{{"batch_bytes_per_customer", per_customer},
                                       {"json_bytes_per_customer", static_cast<double>(json_bytes) / kBatch},
                                       {"ratio", ratio}};
  }

  // 7. A terminal's outbox uploaded to headquarters, durable at both ends.
  if (!o.plaintext) {
    const double seconds = UploadToHeadquarters(o, data, dir);
    const double rate = o.uploads / seconds;
    std::printf("  upload of %d queued creations, kassad -> kassa-hq, durable at both ends: %.2f s, %.0f customers/s\n",
                o.uploads, seconds, rate);
    report.root["upload"] = json::object{{"operations", o.uploads}, {"seconds", seconds}, {"per_second", rate}};
  }

  // 8. Memory-limited. Each side runs in a forked child that opens the store
  // itself: LMDB's environment must not be open in this process across a
  // fork, nor twice in one process (the child would hold both), so this
  // process's is closed first; nothing below reads it.
  store.reset();
  json::object limited;
  for (std::size_t i = 0; i < o.memory_limits.size(); ++i) {
    const auto& [label, bytes] = o.memory_limits[i];
    if (i == 0) std::printf("\nmemory-limited (each side in a control group, page cache dropped before each phase)\n");
    const std::uint64_t first_new = 20'000'000 + i * 1'000'000;
    const LimitedRuns runs = RunLimited(o, dir, terminal_dir, data, queries, label, bytes, first_new);
    limited[label] = ReportLimited(label, runs, kassa_search);
  }
  if (!limited.empty()) report.root["memory_limited"] = limited;

  // Goals.
  std::printf("\ngoals\n");
  for (QueryKind k : kQueryKinds) {
    report.Goal(std::string("search p99 / SQLite p99, ") + Name(k),
                kassa_search[k].Summary().p99_us / sqlite_search[k].Summary().p99_us, 0.5, "x");
  }
  report.Goal("create p50 / bare LMDB put p50 (same file)", kc.p50_us / bare_put.p50_us, 1.3, "x");
  report.Goal("create p99 / SQLite create p99", kc.p99_us / sc.p99_us, 1.0, "x");
  if (!o.plaintext) {
    report.Goal("kassad anonymous memory", Mb(memory.anonymous), 8.0, "MB");
    // The stricter start when it was measured: nothing of the data file cached.
    report.Goal(o.drop_caches ? "kassad start p50, page cache dropped" : "kassad start p50, page cache warm",
                (o.drop_caches ? cold_start : warm_start).Summary().p50_us / 1000, 100.0, "ms");
  }
  report.Goal("upload bytes / compact JSON bytes", report.root["wire"].as_object()["ratio"].as_double(), 0.35, "x");
  for (const auto& [label, figures] : limited) LimitedGoals(label, figures.as_object(), report);

  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << json::serialize(report.root) << "\n";
    if (!out) Fail("cannot write " + o.json_path);
    std::printf("\nreport written to %s\n", o.json_path.c_str());
  }
  if (!o.keep && o.dir.empty()) fs::remove_all(dir);
  if (o.quick) {
    std::printf("\n--quick: %" PRIu64 " customers fit in every cache, SQLite's included; the goals are for the "
                "full size (1,000,000)\n", o.customers);
  }
  if (!report.missed.empty()) {
    std::printf("\n%zu goal(s) missed%s\n", report.missed.size(), o.check ? "" : " (not checked: no --check)");
    return o.check ? 1 : 0;
  }
  std::printf("\nevery goal met\n");
  return 0;
}
