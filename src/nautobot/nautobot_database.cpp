#include "nautobot/nautobot_database.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "util/diagnostic.hpp"
#include "util/file_read.hpp"

namespace kjq::nautobot {

namespace {

[[noreturn]] void refuse(const char* flag, std::string message) {
  Diagnostic d;
  d.path = flag;
  d.message = std::move(message);
  throw InputError(std::move(d));
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

struct ConninfoDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

// libpq's own reading of the URL (percent-decoding included); nullptr when it refuses it.
Conninfo parse_url(const std::string& url, std::string* error) {
  char* message = nullptr;
  Conninfo options(PQconninfoParse(url.c_str(), &message));
  if (!options && error) *error = message ? message : "libpq cannot parse it";
  if (message) PQfreemem(message);
  return options;
}

std::string option(const PQconninfoOption* options, const std::string& keyword) {
  for (auto* o = options; o && o->keyword; ++o) {
    if (keyword == o->keyword) return o->val ? o->val : "";
  }
  return {};
}

bool has_option(const PQconninfoOption* options, const std::string& keyword) {
  for (auto* o = options; o && o->keyword; ++o) {
    if (keyword == o->keyword) return o->val != nullptr;
  }
  return false;
}

void validate_url(const std::string& url) {
  if (url.empty()) refuse(kDatabaseFlag, "expected postgresql://USER@HOST:PORT/DATABASE, got an empty value");
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    // Not echoed: without a scheme we cannot tell which part might be a password.
    refuse(kDatabaseFlag, "expected a URL postgresql://USER@HOST:PORT/DATABASE (only PostgreSQL is supported)");
  }
  const auto scheme = lowercase(url.substr(0, scheme_end));
  if (scheme != "postgresql" && scheme != "postgres") {
    const bool printable =
        !scheme.empty() && scheme.size() <= 20 && std::all_of(scheme.begin(), scheme.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
    refuse(kDatabaseFlag, "only PostgreSQL is supported (postgresql://USER@HOST:PORT/DATABASE), got a " +
                              (printable ? scheme + "://" : std::string("non-PostgreSQL")) +
                              " URL; Nautobot on MySQL cannot be written to by kjq");
  }
  std::string why;
  const auto options = parse_url(url, &why);
  if (!options) {
    // libpq's message may quote the URL; a password may be part of it, so it is not repeated.
    refuse(kDatabaseFlag, "not a valid PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)");
  }
  if (has_option(options.get(), "password")) {
    refuse(kDatabaseFlag,
           std::string("the URL contains a password; remove it and put the password in a file given by ") +
               kPasswordFileFlag + " (or in PGPASSWORD or PGPASSFILE)");
  }
}

}  // namespace

std::string read_password_file(const std::string& path) {
  if (path.empty()) refuse(kPasswordFileFlag, "expected a file name");
  std::string text;
  try {
    text = read_file_bounded(path, FileReadOptions{.max_bytes = 64 * 1024, .allow_special = false});
  } catch (const FileReadError& e) {
    refuse(kPasswordFileFlag, "cannot read the password file " + path + ": " + e.reason());
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) refuse(kPasswordFileFlag, "the password file " + path + " is empty");
  if (text.find('\0') != std::string::npos)
    refuse(kPasswordFileFlag, "the password file " + path + " holds a NUL byte");
  return text;
}

NautobotDatabase NautobotDatabase::from_flags(const std::string& url, const std::string& password_file) {
  NautobotDatabase db;
  db.url = url;
  // libpq knows the schemes in lowercase only; POSTGRESQL:// is the same URL.
  if (const auto scheme_end = url.find("://"); scheme_end != std::string::npos) {
    const auto scheme = lowercase(url.substr(0, scheme_end));
    if (scheme == "postgresql" || scheme == "postgres") db.url.replace(0, scheme_end, scheme);
  }
  db.password_file = password_file;
  db.validate();
  return db;
}

void NautobotDatabase::validate() const {
  validate_url(url);
  if (!password_file.empty()) read_password_file(password_file);
}

std::string NautobotDatabase::display_name() const {
  const auto options = parse_url(url, nullptr);
  if (!options) return "(an invalid PostgreSQL URL)";
  auto host = option(options.get(), "host");
  if (host.empty()) host = option(options.get(), "hostaddr");
  if (host.empty()) host = "localhost";
  auto port = option(options.get(), "port");
  auto out = host + (port.empty() ? "" : ":" + port) + "/" + option(options.get(), "dbname");
  const auto user = option(options.get(), "user");
  if (!user.empty()) out += " as " + user;
  return out;
}

}  // namespace kjq::nautobot
