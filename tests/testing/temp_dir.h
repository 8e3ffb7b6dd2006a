#pragma once

// A fresh directory under $TMPDIR for one test, removed with everything in it.

#include <filesystem>
#include <random>
#include <string>

namespace kassa::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("kassa-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    // A sealed store keeps its customers' data keys beside its directory.
    std::filesystem::remove(path_.string() + ".slots", ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace kassa::testing
