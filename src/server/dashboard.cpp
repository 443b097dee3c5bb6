#include "server/dashboard.hpp"

namespace kjq::server {

const char* const kDashboardContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

namespace {

void security_headers(http::Response& res) {
  res.set_header("Content-Security-Policy", kDashboardContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
}

const DashboardAsset* find_asset(std::string_view name) {
  for (const auto& a : dashboard_assets())
    if (a.name == name) return &a;
  return nullptr;
}

void serve(const DashboardAsset* asset, http::Response& res) {
  security_headers(res);
  if (!asset) {
    res.status = 404;
    res.body = "not found\n";
    return;
  }
  res.content_type = content_type_of(asset->name);
  res.body = std::string(asset->content);
}

}  // namespace

void install_dashboard(http::HttpServer& server) {
  // Memory only: answered on the I/O thread.
  server.route(
      "GET", "/", [](const http::Request&, http::Response& res) { serve(find_asset("index.html"), res); },
      http::Dispatch::Inline);
  server.route(
      "GET", "/assets/{}",
      [](const http::Request& req, http::Response& res) {
        // index.html is the page, not an asset; names never hold a '/' (one path segment).
        const std::string& name = req.path_params[0];
        serve(name == "index.html" ? nullptr : find_asset(name), res);
      },
      http::Dispatch::Inline);
}

}  // namespace kjq::server
