#include "e2e/serve_fixture.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <thread>

namespace kjq::test {

using nlohmann::json;

void ServeProcess::kill9() {
  process_->signal(SIGKILL);
  process_->wait(10);
}

ProcessResult ServeProcess::stop() {
  process_->signal(SIGTERM);
  return process_->wait(30);
}

int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

std::string raw_post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + ServeEnv::kApiToken +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

ServeEnv::ServeEnv(EmulatorOptions options) : kube_(std::move(options)) {
  std::ofstream(kube_.dir() / "api.token") << kApiToken << "\n";
}

std::unique_ptr<ServeProcess> ServeEnv::start(const std::vector<std::string>& extra, const std::string& store) const {
  return start_with_env({}, extra, store);
}

std::unique_ptr<ServeProcess> ServeEnv::start_with_env(const std::map<std::string, std::string>& env,
                                                       const std::vector<std::string>& extra,
                                                       const std::string& store) const {
  std::vector<std::string> args = {"serve",
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--store",
                                   store.empty() ? sqlite_url() : store,
                                   "--api-token-file",
                                   (kube_.dir() / "api.token").string(),
                                   "--reconcile-interval",
                                   "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = kube_.kjq_background(args, env);
  const std::string marker = "listening on ";
  for (int i = 0; i < 1500; ++i) {
    std::string err = p->err_so_far();
    if (auto at = err.find(marker); at != std::string::npos) {
      auto end = err.find_first_of(" \n", at + marker.size());
      if (end != std::string::npos)
        return std::make_unique<ServeProcess>(std::move(p), err.substr(at + marker.size(), end - at - marker.size()));
    }
    if (err.find("error") != std::string::npos && p->out_so_far().empty()) {
      auto r = p->wait(5);
      throw std::runtime_error("kjq serve did not start (exit " + std::to_string(r.exit_code) + "): " + r.err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("kjq serve did not start in 15 s: " + p->err_so_far());
}

ApiReply ServeEnv::request(const std::string& base, const std::string& method, const std::string& path,
                           const json& body, const std::string& token) const {
  httplib::Client c(base);
  c.set_connection_timeout(2);
  c.set_read_timeout(30);
  c.set_tcp_nodelay(true);
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  httplib::Result r =
      method == "POST" ? c.Post(path, h, body.is_null() ? "" : body.dump(), "application/json") : c.Get(path, h);
  ApiReply out;
  if (!r) return out;
  out.status = r->status;
  out.text = r->body;
  out.body = json::parse(r->body, nullptr, false);
  return out;
}

json ServeEnv::wait_for(const std::string& base, const std::string& id, const std::set<std::string>& states,
                        std::chrono::seconds timeout) const {
  json last;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    ApiReply r = request(base, "GET", "/api/v1/jobs/" + id);
    if (r.status == 200) {
      last = r.body;
      if (states.count(last.value("state", ""))) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

std::vector<std::string> ServeEnv::job_creates() const {
  httplib::Client c(kube_.admin_url());
  auto r = c.Get("/creates?resource=jobs");
  std::vector<std::string> names;
  if (!r || r->status != 200)
    throw std::runtime_error("GET /creates failed: " + (r ? std::to_string(r->status) : httplib::to_string(r.error())));
  const json log = json::parse(r->body);
  for (const auto& item : log["items"]) names.push_back(item["name"]);
  return names;
}

int ServeEnv::active_jobs_in_cluster() {
  kube::ListOptions o;
  o.label_selector = "kjq.nautobot.com/serve";
  int active = 0;
  for (const auto& job : kube_.admin().list_jobs("default", o).items) {
    bool final = false;
    for (const auto& c : job.value("status", json::object()).value("conditions", json::array()))
      if ((c.value("type", "") == "Complete" || c.value("type", "") == "Failed") && c.value("status", "") == "True")
        final = true;
    if (!final) ++active;
  }
  return active;
}

bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ready();
}

double metric(const std::string& page, const std::string& name) {
  std::size_t at = 0;
  while ((at = page.find(name, at)) != std::string::npos) {
    if (at == 0 || page[at - 1] == '\n') {
      const auto space = page.find(' ', at);
      const auto nl = page.find('\n', at);
      return std::stod(page.substr(space + 1, nl - space - 1));
    }
    at += name.size();
  }
  return -1;
}

void expect_exactly_once(const ServeEnv& env, const std::string& url, const std::set<std::string>& ids, int n) {
  ASSERT_EQ(static_cast<int>(ids.size()), n);
  for (const auto& id : ids) {
    json j = env.wait_for(url, id, {"Succeeded", "Failed", "Cancelled"}, std::chrono::seconds(120));
    EXPECT_EQ(j["state"], "Succeeded") << j;
  }
  auto creates = env.job_creates();
  std::set<std::string> unique(creates.begin(), creates.end());
  EXPECT_EQ(creates.size(), unique.size()) << "a Job was created twice";
  std::set<std::string> expected;
  for (const auto& id : ids) expected.insert("nautobot-job-" + id);
  EXPECT_EQ(unique, expected);
  // The store agrees: every job is final, page by page.
  int seen = 0;
  std::string cont;
  do {
    ApiReply page = env.request(url, "GET", "/api/v1/jobs?limit=500" + (cont.empty() ? "" : "&continue=" + cont));
    ASSERT_EQ(page.status, 200);
    for (const auto& j : page.body["items"]) {
      ++seen;
      EXPECT_EQ(j["state"], "Succeeded") << j;
    }
    cont = page.body.value("continue", "");
  } while (!cont.empty());
  EXPECT_EQ(seen, n);
}

void Burst::run(const ServeEnv& env, const std::string& queue, int n, int threads) {
  std::vector<std::thread> workers;
  std::atomic<int> next{0};
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        const std::string id = "burst-" + std::to_string(i);
        for (int attempt = 0; attempt < 2000; ++attempt) {
          std::string base;
          {
            std::lock_guard lock(mu);
            base = urls[static_cast<std::size_t>(i + attempt) % urls.size()];
          }
          ApiReply r = env.submit(base, {{"queue", queue}, {"id", id}, {"data", {{"i", i}}}});
          if (r.status == 202 || r.status == 200) {
            ++accepted;
            std::lock_guard lock(mu);
            ids.insert(id);
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  for (auto& w : workers) w.join();
}

void Burst::set_url(std::size_t replica, const std::string& url) {
  std::lock_guard lock(mu);
  urls.at(replica) = url;
}

}  // namespace kjq::test
