#include "emulator.hpp"

#include <sys/resource.h>
#include <chrono>
#include <fstream>

#include "manifest_loader.hpp"
#include "util/diagnostic.hpp"

namespace kjq::emulator {

using nlohmann::json;

std::pair<std::string, int> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw kjq::InputError(kjq::Diagnostic{"--listen", 0, 0, "", "expected HOST:PORT, got \"" + text + "\""});
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t pos = 0;
    port = std::stoi(text.substr(colon + 1), &pos);
    if (pos != text.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    throw kjq::InputError(kjq::Diagnostic{"--listen", 0, 0, "", "invalid port in \"" + text + "\""});
  return {host, port};
}

namespace {
bool want_rbac(const EmulatorOptions& o) {
  if (o.authorization_mode == "RBAC") return true;
  if (o.authorization_mode == "AlwaysAllow") return false;
  if (!o.authorization_mode.empty())
    throw kjq::InputError(kjq::Diagnostic{"--authorization-mode", 0, 0, "",
                                          "expected RBAC or AlwaysAllow, got \"" + o.authorization_mode + "\""});
  return !o.token_file.empty();
}
}  // namespace

Emulator::Emulator(EmulatorOptions options)
    : options_(std::move(options)),
      store_(options_.watch_history),
      authn_(options_.token_file.empty() ? TokenAuthenticator() : TokenAuthenticator::from_file(options_.token_file)),
      authz_(store_, registry_, want_rbac(options_)),
      faults_(options_.faults),
      controller_(store_, registry_, SimClock(options_.time_scale), options_.simulation, options_.record_events) {
  if (options_.tls_cert.empty() != options_.tls_key.empty())
    throw kjq::InputError(kjq::Diagnostic{"--tls-cert", 0, 0, "", "--tls-cert and --tls-key go together"});
  std::tie(host_, port_) = parse_listen_address(options_.listen);
  if (!options_.admin_listen.empty()) std::tie(admin_host_, admin_port_) = parse_listen_address(options_.admin_listen);
  api_server_ = std::make_unique<ApiServer>(registry_, store_, controller_, authn_, authz_, faults_, options_.api);
  if (!options_.rbac_file.empty()) load_rbac(options_.rbac_file);
}

Emulator::~Emulator() { stop(); }

void Emulator::load_rbac(const std::string& path) {
  std::vector<kjq::Diagnostic> problems;
  for (auto& obj : load_manifest_file(path)) {
    const ResourceType* t = registry_.find_kind(obj.value("apiVersion", ""), obj.value("kind", ""));
    if (!t || t->group != "rbac.authorization.k8s.io") continue;  // Jobs, ConfigMaps, ... are not RBAC
    if (!obj.contains("metadata") || !obj["metadata"].is_object() || obj["metadata"].value("name", "").empty()) {
      problems.push_back({path, 0, 0, "", obj.value("kind", "") + " without metadata.name"});
      continue;
    }
    if (t->namespaced && obj["metadata"].value("namespace", "").empty()) obj["metadata"]["namespace"] = "default";
    obj["metadata"]["uid"] = random_uid();
    try {
      store_.create(*t, obj);
    } catch (const ApiError& e) {
      problems.push_back({path, 0, 0, "", e.what()});
    }
  }
  if (!problems.empty()) throw kjq::InputError(problems);
}

std::unique_ptr<httplib::Server> Emulator::make_server() const {
  std::unique_ptr<httplib::Server> s;
  if (!options_.tls_cert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    if (!ssl->is_valid())
      throw kjq::RuntimeError("cannot load TLS certificate " + options_.tls_cert + " / key " + options_.tls_key);
    s = std::move(ssl);
  } else {
    s = std::make_unique<httplib::Server>();
  }
  s->set_tcp_nodelay(true);  // answers go out in pieces: never wait for the client's delayed ACK
  return s;
}

void Emulator::configure(httplib::Server& server) {
  const int threads = options_.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_keep_alive_max_count(1000000);
  server.set_keep_alive_timeout(30);
  server.set_read_timeout(30);
  server.set_write_timeout(30);
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(3 * 1024 * 1024);
  api_server_->install(server);
}

void Emulator::start() {
  server_ = make_server();
  configure(*server_);
  if (port_ == 0) {
    port_ = server_->bind_to_any_port(host_);
    if (port_ < 0) throw kjq::RuntimeError("cannot listen on " + options_.listen);
  } else if (!server_->bind_to_port(host_, port_)) {
    throw kjq::RuntimeError("cannot listen on " + options_.listen);
  }
  if (!options_.admin_listen.empty()) {
    admin_server_ = std::make_unique<httplib::Server>();
    install_admin(*admin_server_);
    if (admin_port_ == 0) {
      admin_port_ = admin_server_->bind_to_any_port(admin_host_);
      if (admin_port_ < 0) throw kjq::RuntimeError("cannot listen on " + options_.admin_listen);
    } else if (!admin_server_->bind_to_port(admin_host_, admin_port_)) {
      throw kjq::RuntimeError("cannot listen on " + options_.admin_listen);
    }
    admin_thread_ = std::thread([this] {
      admin_server_->listen_after_bind();
      admin_done_ = true;
    });
  }
  faults_.on_refuse([this] {
    std::lock_guard lock(server_mu_);
    refused_ = true;
    api_server_->close_streams();
    if (server_) server_->stop();
  });
  if (options_.run_controller) controller_.start();
  server_thread_ = std::thread([this] {
    serve_loop();
    serve_loop_done_ = true;
  });
  for (int i = 0; i < 2500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (options_.refuse_connections_seconds > 0) faults_.refuse_connections(options_.refuse_connections_seconds);
}

void Emulator::serve_loop() {
  while (!stopping_) {
    httplib::Server* s = nullptr;
    {
      std::lock_guard lock(server_mu_);
      s = server_.get();
    }
    if (s) s->listen_after_bind();  // returns after stop()
    if (stopping_) break;
    // Refused-connections period: wait it out, then listen again on the same port.
    while (!stopping_ && faults_.refusing_seconds_left() > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (stopping_) break;
    std::unique_ptr<httplib::Server> next = make_server();
    configure(*next);
    bool bound = false;
    for (int attempt = 0; attempt < 100 && !bound && !stopping_; ++attempt) {
      bound = next->bind_to_port(host_, port_);
      if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!bound) {
      std::fprintf(stderr, "kube-emulator: cannot listen on %s:%d again\n", host_.c_str(), port_);
      break;
    }
    api_server_->reopen_streams();
    std::lock_guard lock(server_mu_);
    server_ = std::move(next);
    refused_ = false;
  }
}

void Emulator::stop() {
  if (stopping_.exchange(true)) return;
  api_server_->close_streams();
  // httplib's stop() is a no-op until listen() has begun, so repeat it until the loops are out.
  while (server_thread_.joinable() && !serve_loop_done_) {
    {
      std::lock_guard lock(server_mu_);
      if (server_) server_->stop();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  while (admin_thread_.joinable() && !admin_done_) {
    admin_server_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (server_thread_.joinable()) server_thread_.join();
  if (admin_thread_.joinable()) admin_thread_.join();
  controller_.stop();
}

std::string Emulator::base_url() const {
  return std::string(options_.tls_cert.empty() ? "http" : "https") + "://" + host_ + ":" + std::to_string(port_);
}

std::string Emulator::admin_url() const {
  if (options_.admin_listen.empty()) return "";
  return "http://" + admin_host_ + ":" + std::to_string(admin_port_);
}

void Emulator::install_admin(httplib::Server& server) {
  auto reply = [](httplib::Response& res, int code, const json& body) {
    res.status = code;
    res.set_content(body.dump(), "application/json");
  };
  auto current = [this] {
    json j = fault_config_to_json(faults_.config());
    j["refuseConnectionsSeconds"] = faults_.refusing_seconds_left();
    return j;
  };
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  server.Get("/faults", [=](const httplib::Request&, httplib::Response& res) { reply(res, 200, current()); });
  auto put = [=, this](const httplib::Request& req, httplib::Response& res) {
    try {
      json body = req.body.empty() ? json::object() : json::parse(req.body);
      FaultConfig c = fault_config_from_json(body, faults_.config());
      faults_.set(c);
      if (body.contains("refuseConnectionsSeconds") && body["refuseConnectionsSeconds"].is_number())
        faults_.refuse_connections(body["refuseConnectionsSeconds"].get<double>());
      reply(res, 200, current());
    } catch (const ApiError& e) {
      reply(res, e.code(), e.status());
    } catch (const json::exception& e) {
      reply(res, 400, bad_request(e.what()).status());
    }
  };
  server.Put("/faults", put);
  server.Post("/faults", put);
  server.Delete("/faults", [=, this](const httplib::Request&, httplib::Response& res) {
    faults_.set(FaultConfig{});
    reply(res, 200, current());
  });
  // Every create since start-up (`?resource=jobs` for one resource), surviving deletions.
  server.Get("/creates", [this, reply](const httplib::Request& req, httplib::Response& res) {
    reply(res, 200, api_server_->creates().to_json(req.get_param_value("resource")));
  });
  server.Get("/stats", [this, reply](const httplib::Request&, httplib::Response& res) {
    long rss_kib = 0;
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0) rss_kib = std::stol(line.substr(6));
    json counts = json::object();
    for (const auto& t : registry_.all())
      if (t.stored) counts[t.resource] = store_.count(t);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    reply(res, 200,
          {{"resourceVersion", store_.current_rv()},
           {"objects", counts},
           {"rssBytes", rss_kib * 1024},
           {"cpuSeconds", cpu}});
  });
}

}  // namespace kjq::emulator
