#include "server/http_router.hpp"

namespace kjq::server::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

std::string percent_decode(std::string_view text, Plus plus) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus == Plus::Space && c == '+' ? ' ' : c);
  }
  return out;
}

void split_target(std::string_view target, std::string& raw_path, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query) {
  const auto q = target.find('?');
  raw_path = std::string(target.substr(0, q));
  path = percent_decode(raw_path, Plus::Literal);
  query.clear();
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      query.emplace_back(percent_decode(pair.substr(0, eq), Plus::Space),
                         eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), Plus::Space));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

void Router::add(std::string method, std::string_view pattern) {
  Route r{std::move(method), {}};
  for (auto s : split_path(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

std::optional<Router::Match> Router::match(std::string_view method, std::string_view raw_path, bool& path_known) const {
  const auto segments = split_path(raw_path);
  path_known = false;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.segments.size() != segments.size()) continue;
    Match m{i, {}};
    bool ok = true;
    for (std::size_t k = 0; ok && k < segments.size(); ++k) {
      if (r.segments[k] == "{}") {
        ok = !segments[k].empty();
        m.params.push_back(percent_decode(segments[k], Plus::Literal));
      } else {
        ok = r.segments[k] == segments[k];
      }
    }
    if (!ok) continue;
    path_known = true;
    if (r.method == method) return m;
  }
  return std::nullopt;
}

}  // namespace kjq::server::http
