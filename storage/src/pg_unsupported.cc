// The PostgreSQL store in a build without libpq (armhf: headquarters there
// runs on its embedded store; README "PostgreSQL").

#include "kassa/storage/chain_store.h"

namespace kassa::storage {

bool PostgresSupported() { return false; }

Result<std::unique_ptr<ChainStore>> OpenPostgresChainStore(const PostgresStoreOptions&) {
  return Status(StatusCode::kUnimplemented, "database: this build of kassa-hq has no PostgreSQL support");
}

Result<ChainCopyReport> CopyLmdbToPostgres(const ChainStoreOptions&, const PostgresStoreOptions&) {
  return Status(StatusCode::kUnimplemented, "database: this build of kassa-hq has no PostgreSQL support");
}

Result<std::unique_ptr<ChainLeadership>> AcquirePostgresLeadership(const std::string&, std::chrono::milliseconds,
                                                                   const std::function<bool()>&) {
  return Status(StatusCode::kUnimplemented, "database: this build of kassa-hq has no PostgreSQL support");
}

}  // namespace kassa::storage
