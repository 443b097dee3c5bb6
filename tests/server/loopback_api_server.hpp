#pragma once
// An API server for the tests of serve's parts that talk to Kubernetes: an httplib server on a
// free loopback port with the handlers the test registers, stopped with the test. config() points
// a kube::RestClient at it (plain HTTP: the token never leaves loopback).
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <httplib.h>

#include "kube/config.hpp"

namespace kjq::test {

class LoopbackApiServer {
 public:
  // `route` registers the handlers before the server starts.
  explicit LoopbackApiServer(const std::function<void(httplib::Server&)>& route) {
    route(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackApiServer() {
    server_.stop();
    thread_.join();
  }
  LoopbackApiServer(const LoopbackApiServer&) = delete;
  LoopbackApiServer& operator=(const LoopbackApiServer&) = delete;

  kube::ClusterConfig config() const {
    kube::ClusterConfig c;
    c.server = "http://127.0.0.1:" + std::to_string(port_);
    c.token = "kube-token";
    c.source = "unit test";
    return c;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace kjq::test
