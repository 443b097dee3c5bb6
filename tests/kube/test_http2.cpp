// HTTP/2 when the server offers it: the transport against a real HTTP/2 server over TLS
// (nghttpd from Debian's nghttp2-server, on loopback), and HTTP/1.1 from a server that offers
// only that.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kube/http_transport.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using kjq::kube::HttpRequest;
using kjq::kube::HttpTransport;
using kjq::kube::TransportOptions;

constexpr const char* kNghttpd = "/usr/sbin/nghttpd";

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

class Http2Server : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kNghttpd)) GTEST_SKIP() << kNghttpd << " not installed (Debian package nghttp2-server)";
    key_ = dir_.path() / "tls.key";
    cert_ = dir_.path() / "tls.crt";
    auto made = kjq::test::run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                                        "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                        "-keyout", key_.string(), "-out", cert_.string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    fs::create_directories(dir_.path() / "htdocs");
    std::ofstream(dir_.path() / "htdocs" / "version") << R"({"major":"1","minor":"32"})";
    port_ = free_port();
    const std::string docroot = (dir_.path() / "htdocs").string(), port = std::to_string(port_);
    std::vector<std::string> args = {kNghttpd, "-a", "127.0.0.1", "-d", docroot, port, key_.string(), cert_.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, kNghttpd, nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 500 && !accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(accepts(port_)) << "nghttpd did not start on port " << port_;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  kjq::kube::HttpResponse get() {
    TransportOptions o;
    o.tls.ca_file = cert_.string();
    HttpTransport t(o);
    HttpRequest r;
    r.url = "https://127.0.0.1:" + std::to_string(port_) + "/version";
    return t.perform(r);
  }

  kjq::test::TempDir dir_;
  fs::path key_, cert_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(Http2Server, Http2IsNegotiatedWhenOffered) {
  auto r = get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, 2);
  EXPECT_EQ(r.body, R"({"major":"1","minor":"32"})");
}

TEST(Http2Fallback, Http1WhenTheServerDoesNotOfferHttp2) {
  httplib::Server server;
  server.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"major":"1"})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread th([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kjq::kube::HttpResponse resp;
  {
    TransportOptions o;  // http2 on: it is only negotiated when offered
    HttpTransport t(o);  // closes its connection when it goes, so the server stops at once
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/version";
    resp = t.perform(r);
  }
  server.stop();
  th.join();
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.http_version, 1);
  EXPECT_EQ(resp.body, R"({"major":"1"})");
}

}  // namespace
