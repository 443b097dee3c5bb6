// --listen / --metrics-listen addresses (parse_listen): HOST:PORT, [IPv6]:PORT, port 0 for any.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "server/service.hpp"
#include "util/diagnostic.hpp"

namespace {

using kjq::server::parse_listen;

// The InputError's message and its diagnostic's file field (where the value came from).
std::pair<std::string, std::string> listen_error(const std::string& address, const std::string& flag) {
  try {
    auto [host, port] = parse_listen(address, flag);
    ADD_FAILURE() << "\"" << address << "\" accepted as " << host << " port " << port;
  } catch (const kjq::InputError& e) {
    return {e.what(), e.diagnostics().at(0).file};
  }
  return {"", ""};
}

}  // namespace

TEST(ParseListen, HostAndPort) {
  EXPECT_EQ(parse_listen("127.0.0.1:0", "--listen"), (std::pair<std::string, int>{"127.0.0.1", 0}));
  EXPECT_EQ(parse_listen("127.0.0.1:8080", "--listen"), (std::pair<std::string, int>{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_listen("0.0.0.0:65535", "--listen"), (std::pair<std::string, int>{"0.0.0.0", 65535}));
  EXPECT_EQ(parse_listen("localhost:9090", "--metrics-listen"), (std::pair<std::string, int>{"localhost", 9090}));
}

TEST(ParseListen, BracketedIpv6) {
  EXPECT_EQ(parse_listen("[::1]:8080", "--listen"), (std::pair<std::string, int>{"::1", 8080}));
  EXPECT_EQ(parse_listen("[::]:0", "--listen"), (std::pair<std::string, int>{"::", 0}));
  EXPECT_EQ(parse_listen("[fe80::1%eth0]:443", "--listen"), (std::pair<std::string, int>{"fe80::1%eth0", 443}));
}

TEST(ParseListen, BadAddressesAreInputErrorsNamingTheFlag) {
  for (const std::string bad : {"x", ":80", "host:99999", "host:8a", "host:", "host:-1", "", "8080", "host:65536",
                                "host:99999999999999", "[::1]", "host:80:"}) {
    const auto [what, file] = listen_error(bad, "--listen");
    EXPECT_EQ(file, "--listen") << bad;
    EXPECT_EQ(what.rfind("--listen: ", 0), 0u) << bad << " → " << what;
    EXPECT_NE(what.find("HOST:PORT"), std::string::npos) << what;
    EXPECT_NE(what.find("\"" + bad + "\""), std::string::npos) << "the message quotes the input: " << what;
  }
  // The flag is the caller's.
  const auto [what, file] = listen_error("x", "--metrics-listen");
  EXPECT_EQ(file, "--metrics-listen");
  EXPECT_EQ(what.rfind("--metrics-listen: ", 0), 0u) << what;
}

TEST(ParseListen, APortWithASignOrBlanksIsRefused) {
  for (const std::string bad : {"host: 80", "host:+80", "host:\t80"}) {
    const auto [what, file] = listen_error(bad, "--listen");
    EXPECT_EQ(file, "--listen") << bad;
  }
}
