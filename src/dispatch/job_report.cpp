#include "dispatch/job_report.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "kube/watch.hpp"
#include "queue/job_preparation.hpp"

namespace kjq::dispatch {

using nlohmann::json;

namespace {
std::string meta(const json& o, const char* key) {
  return o.contains("metadata") && o["metadata"].is_object() ? o["metadata"].value(key, "") : "";
}
std::string annotation(const json& o, const char* key) {
  if (!o.contains("metadata") || !o["metadata"].contains("annotations") || !o["metadata"]["annotations"].is_object())
    return "";
  return o["metadata"]["annotations"].value(key, "");
}
std::string event_time(const json& e) {
  for (const char* k : {"lastTimestamp", "eventTime", "firstTimestamp"})
    if (e.contains(k) && e[k].is_string()) return e[k].get<std::string>();
  return meta(e, "creationTimestamp");
}
std::string since(const std::string& ts) {
  auto t = parse_rfc3339(ts);
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *t));
}
}  // namespace

std::string queue_selector(const std::string& queue_name) {
  return queue_name.empty() ? std::string(queue::kQueueLabel)
                            : std::string(queue::kQueueLabel) + "=" + queue::queue_label_value(queue_name);
}

std::string human_duration(std::chrono::seconds d) {
  long s = std::max<long>(0, d.count());
  if (s < 120) return std::to_string(s) + "s";
  if (s < 600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  if (s < 3 * 3600) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
  return std::to_string(s / 86400) + "d";
}

JobReport load_job_report(kube::KubeApi& api, const std::string& ns, const std::string& name,
                          const LifecycleOptions& options) {
  JobReport r;
  r.job = api.get_job(ns, name);
  kube::ListOptions o;
  o.label_selector = "job-name=" + name;
  r.pods = api.list_pods(ns, o).items;
  r.events = api.events_for(ns, "Job", name);
  for (const auto& p : r.pods) {
    auto pe = api.events_for(ns, "Pod", meta(p, "name"));
    r.events.insert(r.events.end(), pe.begin(), pe.end());
  }
  std::stable_sort(r.events.begin(), r.events.end(),
                   [](const json& a, const json& b) { return event_time(a) < event_time(b); });
  LifecycleOptions lo = options;
  lo.now = std::chrono::system_clock::now();
  r.lifecycle = derive_lifecycle(r.job, r.pods, r.events, lo);
  return r;
}

json job_report_to_json(const JobReport& r) {
  json pods = json::array();
  for (const auto& p : r.pods) {
    json cs = json::array();
    if (p.contains("status") && p["status"].contains("containerStatuses")) cs = p["status"]["containerStatuses"];
    pods.push_back({{"name", meta(p, "name")},
                    {"phase", p.contains("status") ? p["status"].value("phase", "") : ""},
                    {"node", p.contains("spec") ? p["spec"].value("nodeName", "") : ""},
                    {"containerStatuses", cs}});
  }
  json events = json::array();
  for (const auto& e : r.events)
    events.push_back({{"type", e.value("type", "")},
                      {"reason", e.value("reason", "")},
                      {"object", e.contains("involvedObject") ? e["involvedObject"].value("kind", "") + "/" +
                                                                    e["involvedObject"].value("name", "")
                                                              : ""},
                      {"message", e.value("message", "")},
                      {"time", event_time(e)}});
  return {{"name", meta(r.job, "name")},
          {"namespace", meta(r.job, "namespace")},
          {"queue", annotation(r.job, queue::kQueueAnnotation)},
          {"jobResultId", queue::label_of(r.job, queue::kJobResultLabel)},
          {"lifecycle", lifecycle_to_json(r.lifecycle)},
          {"pods", pods},
          {"events", events},
          {"jobStatus", r.job.value("status", json::object())}};
}

std::string format_job_report(const JobReport& r) {
  std::string out;
  out += "Name:        " + meta(r.job, "name") + "\n";
  out += "Namespace:   " + meta(r.job, "namespace") + "\n";
  if (auto q = annotation(r.job, queue::kQueueAnnotation); !q.empty()) out += "Queue:       " + q + "\n";
  if (auto id = queue::label_of(r.job, queue::kJobResultLabel); !id.empty()) out += "Job result:  " + id + "\n";
  out +=
      "Created:     " + meta(r.job, "creationTimestamp") + " (" + since(meta(r.job, "creationTimestamp")) + " ago)\n";
  out += "Status:      " + phase_name(r.lifecycle.phase) + "\n";
  out += "Reason:      " + r.lifecycle.reason;
  if (r.lifecycle.exit_code && r.lifecycle.phase == Phase::Failed)
    out += " (exit code " + std::to_string(*r.lifecycle.exit_code) + ")";
  out += "\n";
  if (!r.lifecycle.message.empty()) out += "Message:     " + r.lifecycle.message + "\n";
  out += "Pods:\n";
  if (r.pods.empty()) out += "  <none>\n";
  for (const auto& p : r.pods) {
    std::string state;
    if (p.contains("status") && p["status"].contains("containerStatuses"))
      for (const auto& cs : p["status"]["containerStatuses"])
        if (cs.contains("state") && cs["state"].is_object() && !cs["state"].empty()) {
          auto it = cs["state"].begin();
          state = it.key();
          if (it->is_object() && it->contains("reason")) state += "(" + (*it)["reason"].get<std::string>() + ")";
          break;
        }
    out += "  " + meta(p, "name") + "  " + (p.contains("status") ? p["status"].value("phase", "") : "") +
           (state.empty() ? "" : "  " + state) + "\n";
  }
  out += "Events:\n";
  if (r.events.empty()) out += "  <none>\n";
  const std::size_t first = r.events.size() > 20 ? r.events.size() - 20 : 0;
  for (std::size_t i = first; i < r.events.size(); ++i) {
    const json& e = r.events[i];
    out += "  " + since(event_time(e)) + " ago  " + e.value("type", "") + "  " + e.value("reason", "") + "  " +
           (e.contains("involvedObject")
                ? e["involvedObject"].value("kind", "") + "/" + e["involvedObject"].value("name", "")
                : "") +
           "  " + e.value("message", "") + "\n";
  }
  return out;
}

JobRow job_row(const json& j, const std::vector<json>& pods) {
  const std::string name = meta(j, "name");
  Lifecycle l = derive_lifecycle(j, pods);
  const json st = j.value("status", json::object());
  const json spec = j.value("spec", json::object());
  JobRow row;
  row.name = name;
  row.queue = annotation(j, queue::kQueueAnnotation);
  row.status = phase_name(l.phase);
  row.reason = l.reason + (l.exit_code && l.phase == Phase::Failed ? "(" + std::to_string(*l.exit_code) + ")" : "");
  row.completions = std::to_string(st.value("succeeded", 0)) + "/" + std::to_string(spec.value("completions", 1));
  auto start = parse_rfc3339(st.value("startTime", ""));
  auto end = parse_rfc3339(st.value("completionTime", ""));
  if (start) {
    auto stop = end ? *end : std::chrono::system_clock::now();
    row.duration = human_duration(std::chrono::duration_cast<std::chrono::seconds>(stop - *start));
  }
  row.age = since(meta(j, "creationTimestamp"));
  return row;
}

std::vector<JobRow> list_job_rows(kube::KubeApi& api, const std::string& ns, const std::string& queue_name) {
  kube::ListOptions jo;
  jo.label_selector = queue_selector(queue_name);
  auto jobs = api.list_jobs(ns, jo).items;
  kube::ListOptions po;
  po.label_selector = "job-name";
  std::map<std::string, std::vector<json>> pods;
  for (auto& p : api.list_pods(ns, po).items) pods[queue::label_of(p, "job-name")].push_back(std::move(p));
  std::sort(jobs.begin(), jobs.end(),
            [](const json& a, const json& b) { return meta(a, "creationTimestamp") > meta(b, "creationTimestamp"); });
  std::vector<JobRow> rows;
  for (const auto& j : jobs) rows.push_back(job_row(j, pods[meta(j, "name")]));
  return rows;
}

std::string format_job_table(const std::vector<JobRow>& rows) {
  std::vector<std::vector<std::string>> cells{{"NAME", "QUEUE", "STATUS", "REASON", "COMPLETIONS", "DURATION", "AGE"}};
  for (const auto& r : rows) cells.push_back({r.name, r.queue, r.status, r.reason, r.completions, r.duration, r.age});
  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& row : cells)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

void watch_jobs(kube::KubeApi& api, const std::string& ns, const std::string& queue_name,
                const std::function<bool(const std::vector<JobRow>&, const std::string&)>& on_change,
                const std::atomic<bool>* cancel) {
  // Two list+watch loops, Jobs (of the queue, by label) and pods (of any Job, then matched by
  // their job-name label): a pod that cannot pull its image or is OOM-killed shows in the row as
  // soon as the pod says so, not when the Job's status catches up. Rows are derived under one
  // lock, and on_change is called from one thread at a time.
  std::mutex mu;
  std::map<std::string, json> jobs;
  std::map<std::string, std::map<std::string, json>> pods;  // job name -> pod name -> pod
  std::atomic<bool> stop{false};
  auto rows = [&] {
    std::vector<const json*> sorted;
    for (const auto& [_, j] : jobs) sorted.push_back(&j);
    std::sort(sorted.begin(), sorted.end(), [](const json* a, const json* b) {
      return meta(*a, "creationTimestamp") > meta(*b, "creationTimestamp");
    });
    std::vector<JobRow> out;
    for (const json* j : sorted) {
      std::vector<json> own;
      if (auto it = pods.find(meta(*j, "name")); it != pods.end())
        for (const auto& [_, p] : it->second) own.push_back(p);
      out.push_back(job_row(*j, own));
    }
    return out;
  };
  auto emit = [&](const std::string& changed) {  // with mu held
    if (stop || (cancel && *cancel)) return false;
    if (!on_change(rows(), changed)) stop = true;
    return !stop;
  };
  std::thread relay;  // an outside cancel stops both loops
  if (cancel)
    relay = std::thread([&] {
      while (!stop) {
        if (*cancel) stop = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  std::thread pod_loop([&] {
    kube::ListOptions sel;
    sel.label_selector = "job-name";
    kube::ListWatch lw(api, kube::pods_resource(), ns, sel);
    try {
      lw.run({[&](const std::vector<json>& items) {
                std::lock_guard lock(mu);
                pods.clear();
                for (const auto& p : items) pods[queue::label_of(p, "job-name")][meta(p, "name")] = p;
                return emit("");
              },
              [&](const kube::WatchEvent& ev) {
                std::lock_guard lock(mu);
                const std::string job = queue::label_of(ev.object, "job-name");
                if (ev.type == "DELETED") {
                  pods[job].erase(meta(ev.object, "name"));
                  if (pods[job].empty()) pods.erase(job);
                } else {
                  pods[job][meta(ev.object, "name")] = ev.object;
                }
                return jobs.count(job) ? emit(job) : !stop.load();
              }},
             &stop);
    } catch (const std::exception& e) {
      // Without pods the rows still follow the Jobs; say why they may lag.
      spdlog::warn("not watching pods ({}); statuses come from the Jobs alone", e.what());
    }
  });
  std::exception_ptr failed;
  try {
    kube::ListOptions sel;
    sel.label_selector = queue_selector(queue_name);
    kube::ListWatch lw(api, kube::jobs_resource(), ns, sel);
    lw.run({[&](const std::vector<json>& items) {
              std::lock_guard lock(mu);
              jobs.clear();
              for (const auto& j : items) jobs[meta(j, "name")] = j;
              return emit("");
            },
            [&](const kube::WatchEvent& ev) {
              std::lock_guard lock(mu);
              const std::string name = meta(ev.object, "name");
              if (ev.type == "DELETED")
                jobs.erase(name);
              else
                jobs[name] = ev.object;
              return emit(name);
            }},
           &stop);
  } catch (...) {
    failed = std::current_exception();
  }
  stop = true;
  pod_loop.join();
  if (relay.joinable()) relay.join();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace kjq::dispatch
