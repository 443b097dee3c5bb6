// libFuzzer target: bytes on a kjq serve connection, parsed as the listener parses them (Beast's
// request parser with kjq's header and body limits, pipelined requests one after another), then
// the target split and routed as the listener does.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/http_router.hpp"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto router = [] {
    kjq::server::http::Router r;
    for (const char* p : {"/api/v1/jobs", "/api/v1/jobs/{}", "/healthz", "/readyz", "/metrics"}) r.add("GET", p);
    r.add("POST", "/api/v1/jobs");
    r.add("POST", "/api/v1/jobs/{}/cancel");
    return r;
  }();
  boost::asio::const_buffer input(data, size);
  for (int requests = 0; requests < 16 && input.size() > 0; ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    const std::size_t used = parser.put(input, ec);
    if (ec || !parser.is_done()) break;
    input += used;
    const auto& message = parser.get();
    std::string raw_path, path;
    std::vector<std::pair<std::string, std::string>> query;
    const auto target = message.target();
    kjq::server::http::split_target(std::string_view(target.data(), target.size()), raw_path, path, query);
    bool known = false;
    const auto method = message.method_string();
    (void)router.match(std::string_view(method.data(), method.size()), raw_path, known);
    (void)message.keep_alive();
  }
  return 0;
}
