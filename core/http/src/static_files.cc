#include "kassa/http/static_files.h"

#include <fstream>
#include <sstream>

namespace kassa::http {
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;

const char* ContentType(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  return nullptr;
}

// A relative path that stays inside the root: segments of [A-Za-z0-9._-],
// none empty, none starting with '.'.
bool SafePath(std::string_view p) {
  if (p.empty() || p.size() > 200) return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    const auto slash = p.find('/', start);
    const std::string_view seg = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg.front() == '.') return false;
    for (char ch : seg) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                      ch == '-' || ch == '_';
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

Response Plain(unsigned status, const char* text, const Request& req) {
  Response r{static_cast<bhttp::status>(status), req.version()};
  r.set(bhttp::field::server, "kassa");
  r.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  r.keep_alive(req.keep_alive());
  r.body() = text;
  r.prepare_payload();
  return r;
}

}  // namespace

Response StaticFiles::Serve(const Request& req, std::string_view path) const {
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
    return Plain(405, "405 method not allowed\n", req);
  }
  std::string_view rel = path;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  const std::string file = rel.empty() ? std::string("index.html") : std::string(rel);
  const char* type = ContentType(file);
  if (root_.empty() || type == nullptr || !SafePath(file)) return Plain(404, "404 not found\n", req);
  std::ifstream in(root_ + "/" + file, std::ios::binary);
  if (!in) return Plain(404, "404 not found\n", req);
  std::ostringstream body;
  body << in.rdbuf();
  if (body.str().size() > kMaxFileBytes) return Plain(404, "404 not found\n", req);
  Response r{bhttp::status::ok, req.version()};
  r.set(bhttp::field::server, "kassa");
  r.set(bhttp::field::content_type, type);
  r.set(bhttp::field::cache_control, "no-cache");
  r.set("X-Content-Type-Options", "nosniff");
  r.set("Content-Security-Policy",
        "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; "
        "frame-ancestors 'none'");
  r.keep_alive(req.keep_alive());
  r.body() = body.str();
  r.prepare_payload();
  if (req.method() == bhttp::verb::head) r.body().clear();
  return r;
}

}  // namespace kassa::http
