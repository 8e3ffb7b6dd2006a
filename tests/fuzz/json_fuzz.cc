// libFuzzer target: the JSON (and CSV) bodies both daemons parse from
// people and files. The first byte picks the parser; the rest is the body:
//   0 kassad's customer create or edit (ParsePatch, after ParseJsonObject)
//   1 a store configuration (kassad --config, distributed)
//   2 headquarters' chain configuration (PUT /v1/config, --config)
//   3 a clienteling file (roles, attributes, operators)
//   4 headquarters' measures, JSON (POST /v1/measures)
//   5 headquarters' measures, CSV
// Every body also goes through the shared HTTP edge's body parser.
//
// Run: scripts/fuzz (the `fuzz` preset, clang).

#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_mapping.h"
#include "kassa/config/clienteling_json.h"
#include "kassa/config/store_config_json.h"
#include "kassa/hq/chain_config.h"
#include "kassa/http/reply.h"
#include "measures_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string field;
  kassa::http::Request request{boost::beast::http::verb::post, "/v1/customers", 11};
  request.set(boost::beast::http::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  (void)kassa::http::ParseJsonObject(request);
  switch (data[0] % 6) {
    case 4: {
      kassa::hq::MeasuresByAccount measures;
      (void)kassa::hq::ParseMeasuresJson(body, measures, field);
      return 0;
    }
    case 5: {
      kassa::hq::MeasuresByAccount measures;
      (void)kassa::hq::ParseMeasuresCsv(body, measures, field);
      return 0;
    }
    default:
      break;
  }
  boost::system::error_code ec;
  const boost::json::value root = boost::json::parse(body, ec);
  if (ec) return 0;
  switch (data[0] % 6) {
    case 0: {
      kassa::customers::CustomerPatch patch;
      std::uint32_t version = 0;
      (void)kassa::api::ParsePatch(root, patch, nullptr, field);
      (void)kassa::api::ParsePatch(root, patch, &version, field);
      return 0;
    }
    case 1: {
      kassa::model::StoreConfig store;
      (void)kassa::config::ParseStoreConfig(root, store, field);
      return 0;
    }
    case 2: {
      kassa::hq::ChainConfig chain;
      if (kassa::hq::ParseChainConfig(root, chain, field).ok()) {
        // What is saved and answered must parse back.
        (void)kassa::hq::ChainConfigToJson(chain, true);
      }
      return 0;
    }
    case 3: {
      kassa::model::ClientelingConfig clienteling;
      std::vector<kassa::model::Operator> operators;
      (void)kassa::config::ParseClienteling(root, "LE", "", clienteling, field);
      (void)kassa::config::ParseOperators(root, "LE", "", operators, field);
      return 0;
    }
    default:
      return 0;
  }
}
