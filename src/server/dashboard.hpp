#pragma once
// The web dashboard of `kjq serve`: the files under web/ (HTML, CSS, JavaScript), built into the
// binary by CMake (cmake/EmbedFiles.cmake writes them into a generated C++ source), served at `/`
// on the API listener with no token (the page itself asks for one and sends it with every API
// call). No CDN, nothing fetched from elsewhere: the Content-Security-Policy allows only this
// origin, no inline script or style, and no framing.
#include <string>
#include <string_view>
#include <vector>

#include "server/http_server.hpp"

namespace kjq::server {

struct DashboardAsset {
  std::string_view name;  // path under web/: "index.html", "app.js"
  std::string_view content;
};

// Every embedded file (generated at build time).
const std::vector<DashboardAsset>& dashboard_assets();

// The policy sent with every page and asset.
extern const char* const kDashboardContentSecurityPolicy;

// GET / (index.html) and GET /assets/{name}.
void install_dashboard(http::HttpServer& server);

// "text/html; charset=utf-8" for "index.html", and so on by extension.
std::string content_type_of(std::string_view name);

}  // namespace kjq::server
