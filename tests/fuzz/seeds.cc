// Writes the fuzz targets' seed corpora: every link message as the tests
// send it, framed (link/), and the sample configuration files and a customer
// body, each behind the selector byte of json_fuzz.cc (json/).
//
// usage: kassa_fuzz_seeds OUT_DIR SOURCE_DIR

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kassa/link/frame.h"
#include "kassa/proto_codec/link_codec.h"

namespace {
namespace fs = std::filesystem;
namespace m = kassa::model;
namespace pc = kassa::proto_codec;
using kassa::link::FrameType;

void Write(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void Frame(const fs::path& dir, const std::string& name, FrameType type, const kassa::Result<kassa::Bytes>& payload) {
  if (!payload.ok()) {
    std::fprintf(stderr, "seed %s: %s\n", name.c_str(), payload.status().detail());
    std::exit(1);
  }
  const kassa::Bytes frame = kassa::link::EncodeFrame(type, *payload);
  Write(dir / name, kassa::AsChars(frame));
}

m::Operation SampleCreate() {
  m::Operation op;
  op.op_id = *m::LocalId::Generate();
  op.kind = m::OperationKind::kCreateCustomer;
  op.customer.id = *m::LocalId::Generate();
  op.customer.first_name = "Līga";
  op.customer.last_name = "Ozoliņa";
  op.customer.email = "liga@example.lv";
  op.customer.phone = "+37129112233";
  op.customer.customer_group = "RETAIL";
  op.customer.loyalty_cards = {"LC-1001"};
  op.customer.version = 1;
  op.operator_id = "A100";
  op.terminal_id = "POS-1";
  return op;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR SOURCE_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out(argv[1]), source(argv[2]);
  fs::create_directories(out / "link");
  fs::create_directories(out / "json");
  const m::Operation op = SampleCreate();
  m::OperationAck ack{op.op_id, m::OperationAck::Outcome::kApplied, op.customer.id, "LV00000001", 1, ""};
  Frame(out / "link", "hello", FrameType::kHello, pc::EncodeHello({"POS-1", "RIGA-01", m::kLinkProtocolVersion, 7}));
  Frame(out / "link", "welcome", FrameType::kWelcome, pc::EncodeWelcome({m::kLinkProtocolVersion, 42, 1700000000000}));
  Frame(out / "link", "error", FrameType::kError, pc::EncodeLinkError("protocol violation"));
  kassa::Bytes batch;
  if (!pc::AppendUploadOperation(op, "POS-1", batch).ok()) return 1;
  Frame(out / "link", "upload", FrameType::kUploadBatch, batch);
  Frame(out / "link", "acks", FrameType::kUploadAcks, pc::EncodeUploadAcks(std::span<const m::OperationAck>(&ack, 1)));
  Frame(out / "link", "realtime", FrameType::kRealtimeRequest, pc::EncodeRealtimeRequest({3, op}));
  Frame(out / "link", "reply", FrameType::kRealtimeReply, pc::EncodeRealtimeReply({3, ack}));
  m::Change change;
  change.seq = 9;
  change.kind = m::Change::Kind::kCustomerUpsert;
  change.customer = op.customer;
  kassa::Bytes distribution;
  if (!pc::AppendDistributionChange(change, distribution).ok()) return 1;
  Frame(out / "link", "distribution", FrameType::kDistribution, distribution);
  Frame(out / "link", "distribution_ack", FrameType::kDistributionAck, pc::EncodeDistributionAck(9));
  Frame(out / "link", "search", FrameType::kSearchRequest, pc::EncodeSearchRequest({5, "ozol lig", 20}));
  Frame(out / "link", "search_reply", FrameType::kSearchReply, pc::EncodeSearchReply({5, "", {op.customer}}));
  Frame(out / "link", "heartbeat", FrameType::kHeartbeat, pc::EncodeHeartbeat(1700000000000));

  const auto json = [&](char selector, const std::string& name, const std::string& text) {
    Write(out / "json" / name, std::string(1, selector) + text);
  };
  const auto file = [&](const char* relative) {
    std::ifstream in(source / relative, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  json('\0', "patch", R"({"first_name":"Līga","last_name":"Ozoliņa","email":"liga@example.lv","phone":"29112233",)"
                      R"("addresses":[{"street":"Brīvības iela 1","city":"Rīga","country":"LV"}],"version":2,)"
                      R"("secondary_emails":[{"value":"l@home.lv","consent":true}],"loyalty_cards":["LC-1"]})");
  json('\1', "store", file("config/store.sample.json"));
  json('\2', "chain", file("config/chain.sample.json"));
  json('\3', "clienteling", file("config/clienteling.sample.json"));
  json('\4', "measures_json", R"({"measures":[{"account":"LV00000001","values":[{"name":"Churn","value":"12%"}]}]})");
  json('\5', "measures_csv", "account,name,value\nLV00000001,Churn,\"12%\"\n");
  return 0;
}
