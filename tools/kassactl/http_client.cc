#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kassa::ctl {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

std::optional<HttpUrl> ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  HttpUrl out;
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    out.base_path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    out.host = rest.substr(0, colon);
    out.port = rest.substr(colon + 1);
  } else {
    out.host = rest;
    out.port = "80";
  }
  if (out.host.size() >= 2 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  return out;
}

std::optional<HttpReply> Send(const HttpUrl& url, const std::string& method, const std::string& path,
                              const std::string& body, const std::string& session_token, std::string& error) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) {
    error = "cannot resolve " + url.host + ": " + ec.message();
    return std::nullopt;
  }
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(endpoints, ec);
  if (ec) {
    error = "kassad is not reachable at http://" + url.host + ":" + url.port + " (" + ec.message() + ")";
    return std::nullopt;
  }
  http::request<http::string_body> req{http::string_to_verb(method), url.base_path + path, 11};
  // The port too: kassad refuses a Host that does not name it exactly.
  req.set(http::field::host, url.host + ":" + url.port);
  req.set(http::field::user_agent, "kassactl");
  req.set(http::field::accept, "application/json");
  if (!session_token.empty()) req.set(boost::beast::http::field::authorization, "Bearer " + session_token);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.keep_alive(false);
  req.prepare_payload();
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec) {
    error = "no answer from kassad: " + ec.message();
    return std::nullopt;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return HttpReply{res.result_int(), std::move(res.body())};
}

std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

}  // namespace kassa::ctl
