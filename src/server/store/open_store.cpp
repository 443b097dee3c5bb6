// open_store: the --store URL → the store it names, migrated. redact_store_url: the same URL
// fit for logs and error messages.
#include <algorithm>

#include "server/store/job_store.hpp"
#include "server/store/postgres_store.hpp"
#include "server/store/sqlite_store.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

[[noreturn]] void bad_store_url(const std::string& url, const std::string& why) {
  Diagnostic d;
  d.path = "--store";
  d.message = why + ", got \"" + redact_store_url(url) + "\"";
  throw InputError(std::move(d));
}

}  // namespace

std::string redact_store_url(const std::string& url) {
  std::string out = url;
  const auto scheme_end = out.find("://");
  if (scheme_end == std::string::npos) return out;  // sqlite:PATH carries no credentials

  // postgresql://user:PASSWORD@host…: the userinfo ends at the authority's last '@'.
  const auto authority_begin = scheme_end + 3;
  const auto authority_end = std::min(out.find_first_of("/?#", authority_begin), out.size());
  const auto at = authority_end > authority_begin ? out.rfind('@', authority_end - 1) : std::string::npos;
  if (at != std::string::npos && at >= authority_begin) {
    const auto colon = out.find(':', authority_begin);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }

  // …?password=PASSWORD: libpq accepts the password as a query parameter too.
  const auto query_begin = out.find('?');
  if (query_begin == std::string::npos) return out;
  for (auto param = query_begin + 1; param < out.size();) {
    auto param_end = out.find_first_of("&#", param);
    if (param_end == std::string::npos) param_end = out.size();
    if (out.compare(param, 9, "password=") == 0 && param + 9 <= param_end) {
      out.replace(param + 9, param_end - param - 9, "***");
      param_end = param + 9 + 3;
    }
    if (param_end >= out.size() || out[param_end] == '#') break;
    param = param_end + 1;
  }
  return out;
}

std::unique_ptr<JobStore> open_store(const std::string& url) {
  std::unique_ptr<JobStore> store;
  if (starts_with(url, "sqlite:")) {
    std::string path = url.substr(7);
    if (starts_with(path, "//")) path = path.substr(2);  // sqlite://PATH is accepted as well
    if (path.empty()) bad_store_url(url, "expected a file path after sqlite: (sqlite:/var/lib/kjq/jobs.db)");
    store = std::make_unique<SqliteStore>(path);
  } else if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
    store = std::make_unique<PostgresStore>(url);
  } else {
    bad_store_url(url, "expected sqlite:PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
  }
  store->migrate();
  return store;
}

}  // namespace kjq::server
