#include "ctl_support.h"

#include <cctype>
#include <cstdio>

namespace kassa::ctl {
namespace json = boost::json;

int Usage(const std::string& message) {
  std::fprintf(stderr, "kassactl: %s\n(see kassactl --help)\n", message.c_str());
  return kUsage;
}

int ExitFor(const std::string& code) {
  if (code == "invalid_argument" || code == "out_of_range") return kInvalid;
  if (code == "not_found") return kNotFound;
  if (code == "unavailable" || code == "resource_exhausted" || code == "permission_denied" || code == "unauthenticated" ||
      code == "failed_precondition" || code == "aborted" || code == "already_exists" || code == "duplicates" ||
      code == "already_registered") {
    return kRefused;
  }
  return kFailed;
}

// Sends a request; on success stores the parsed JSON body. On failure prints
// the error (JSON or text) and returns the exit code.
std::optional<int> Call(const Globals& g, const std::string& method, const std::string& path,
                        const std::string& body, json::value& out) {
  std::string error;
  const std::optional<HttpReply> reply = Send(g.url, method, path, body, g.token, error);
  if (!reply) {
    if (g.json) {
      std::printf("%s\n", json::serialize(json::object{{"error", json::object{{"code", "unavailable"}, {"message", error}}}}).c_str());
    } else {
      std::fprintf(stderr, "kassactl: %s\n", error.c_str());
    }
    return kRefused;
  }
  boost::system::error_code ec;
  out = json::parse(reply->body, ec);
  if (ec) {
    std::fprintf(stderr, "kassactl: kassad answered HTTP %u with a body that is not JSON\n", reply->status);
    return kFailed;
  }
  if (reply->status >= 400) {
    std::string code = "unknown", field, message;
    if (out.is_object()) {
      if (const auto* e = out.as_object().if_contains("error"); e && e->is_object()) {
        const auto& eo = e->as_object();
        if (const auto* c = eo.if_contains("code"); c && c->is_string()) code = std::string(c->get_string());
        if (const auto* f = eo.if_contains("field"); f && f->is_string()) field = std::string(f->get_string());
        if (const auto* m = eo.if_contains("message"); m && m->is_string()) message = std::string(m->get_string());
      }
    }
    if (g.json) {
      std::printf("%s\n", json::serialize(out).c_str());
    } else {
      std::fprintf(stderr, "kassactl: %s%s%s\n", field.c_str(), field.empty() ? "" : ": ", message.c_str());
    }
    return ExitFor(code);
  }
  return std::nullopt;
}

std::string Str(const json::value& v, const char* key) {
  if (!v.is_object()) return {};
  const auto* m = v.as_object().if_contains(key);
  if (m == nullptr) return {};
  if (m->is_string()) return std::string(m->get_string());
  return json::serialize(*m);
}

int Print(const Globals& g, const json::value& v, void (*human)(const json::value&)) {
  if (g.json) std::printf("%s\n", json::serialize(v).c_str());
  else human(v);
  return kOk;
}

}  // namespace kassa::ctl

namespace kassa::ctl {

std::string Encode(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", ch);
      out += hex;
    }
  }
  return out;
}

}  // namespace kassa::ctl
