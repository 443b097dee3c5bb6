#pragma once
// A scripted API server for the kube client's tests (cpp-httplib, plain HTTP, a real socket):
// each request takes the next scripted answer. With the script used up and `hold_idle_watches`,
// a watch is answered and then held open without events until the server closes, as an idle API
// server does; anything else gets 200 {}.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "kube/config.hpp"
#include "kube/rest_client.hpp"

namespace kjq::kube {

struct Scripted {
  int status;
  std::string body;
  std::map<std::string, std::string> headers;
};

class ScriptedApiServer {
 public:
  ScriptedApiServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock lock(mu);
      seen.push_back(req.method + " " + req.path + (req.params.count("watch") ? "?watch" : "") + " " +
                     req.get_header_value("Authorization"));
      if (req.params.count("resourceVersion")) versions.push_back(req.get_param_value("resourceVersion"));
      if (!valid_token.empty() && req.get_header_value("Authorization") != "Bearer " + valid_token) {
        res.status = 401;
        res.set_content(R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized","code":401})",
                        "application/json");
        return;
      }
      Scripted s{200, "{}", {}};
      if (!script.empty()) {
        s = script.front();
        script.pop_front();
      } else if (req.params.count("watch") && hold_idle_watches) {
        ++held;
        res.status = 200;
        // Headers now, then no event until the server closes (or the client goes away).
        res.set_chunked_content_provider("application/json", [this](std::size_t, httplib::DataSink&) {
          std::unique_lock wait(mu);
          idle.wait_for(wait, std::chrono::milliseconds(50), [this] { return closing; });
          return !closing;
        });
        return;
      }
      res.status = s.status;
      for (const auto& [k, v] : s.headers) res.set_header(k, v);
      res.set_content(s.body, "application/json");
    };
    server.Get(".*", handler);
    server.Post(".*", handler);
    server.Delete(".*", handler);
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ScriptedApiServer() {
    {
      std::lock_guard lock(mu);
      closing = true;
    }
    idle.notify_all();
    server.stop();
    thread.join();
  }
  ClusterConfig config(const std::string& token_file = "") const {
    ClusterConfig c;
    c.server = "http://127.0.0.1:" + std::to_string(port);
    c.token_file = token_file;
    if (token_file.empty()) c.token = "static-secret";
    return c;
  }
  std::mutex mu;
  std::deque<Scripted> script;
  std::vector<std::string> seen, versions;
  std::string valid_token;
  bool hold_idle_watches = false;
  int held = 0;  // idle watches being held
  bool closing = false;
  std::condition_variable idle;
  httplib::Server server;
  int port = 0;
  std::thread thread;
};

inline ClientOptions fast() {
  ClientOptions o;
  o.backoff_base = std::chrono::milliseconds(1);
  o.backoff_cap = std::chrono::milliseconds(5);
  o.qps = 0;
  return o;
}

}  // namespace kjq::kube
