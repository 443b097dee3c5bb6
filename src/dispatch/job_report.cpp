#include "dispatch/job_report.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>

#include "kube/informer.hpp"
#include "kube/object_meta.hpp"
#include "queue/job_preparation.hpp"

namespace kjq::dispatch {

using nlohmann::json;

namespace {
std::string event_time(const json& e) {
  for (const char* k : {"lastTimestamp", "eventTime", "firstTimestamp"})
    if (e.contains(k) && e[k].is_string()) return e[k].get<std::string>();
  return kube::meta_string(e, "creationTimestamp");
}
std::string since(const std::string& ts) {
  auto t = parse_rfc3339(ts);
  if (!t) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *t));
}
}  // namespace

std::string job_result_id_of_name(const std::string& job_name) {
  constexpr std::size_t kUuidLength = 36;
  if (job_name.size() < kUuidLength + 2 || job_name[job_name.size() - kUuidLength - 1] != '-') return "";
  std::string id = job_name.substr(job_name.size() - kUuidLength);
  for (std::size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return "";
    } else if (std::isxdigit(c)) {
      id[i] = static_cast<char>(std::tolower(c));
    } else {
      return "";
    }
  }
  return id;
}

std::string job_origin(const json& job) {
  return kube::label_of(job, queue::kQueueLabel).empty() ? kOriginNautobot : kOriginKjq;
}

std::string job_queue(const json& job) {
  std::string q = kube::annotation_of(job, queue::kQueueAnnotation);
  return q.empty() ? kube::annotation_of(job, kNautobotQueueAnnotation) : q;
}

std::string job_result_id(const json& job) {
  std::string id = kube::label_of(job, queue::kJobResultLabel);
  return id.empty() ? job_result_id_of_name(kube::name_of(job)) : id;
}

std::string server_selector(const JobSelection& s) {
  if (s.origin == kOriginKjq || !s.nautobot_jobs) return queue_selector(s.queue);
  if (s.origin == kOriginNautobot) return s.nautobot_jobs->text();
  return "";  // kjq's or Nautobot's: the namespace's Jobs, kept by `selected`
}

bool selected(const json& job, const JobSelection& s) {
  const bool kjq_job = !kube::label_of(job, queue::kQueueLabel).empty();
  // A Job with kjq's label is kjq's even when the chart's labels make the selector match it too.
  const bool nautobot_job = !kjq_job && s.nautobot_jobs && s.nautobot_jobs->matches(kube::labels_of(job));
  if (s.origin == kOriginKjq && !kjq_job) return false;
  if (s.origin == kOriginNautobot && !nautobot_job) return false;
  if (!kjq_job && !nautobot_job) return false;
  if (s.queue.empty()) return true;
  return kube::label_of(job, queue::kQueueLabel) == queue::queue_label_value(s.queue) ||
         kube::annotation_of(job, kNautobotQueueAnnotation) == s.queue;
}

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
    auto pe = api.events_for(ns, "Pod", kube::meta_string(p, "name"));
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
    pods.push_back({{"name", kube::meta_string(p, "name")},
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
  return {{"name", kube::meta_string(r.job, "name")},
          {"namespace", kube::meta_string(r.job, "namespace")},
          {"origin", job_origin(r.job)},
          {"queue", job_queue(r.job)},
          {"jobResultId", job_result_id(r.job)},
          {"lifecycle", lifecycle_to_json(r.lifecycle)},
          {"pods", pods},
          {"events", events},
          {"jobStatus", r.job.value("status", json::object())}};
}

std::string format_job_report(const JobReport& r) {
  std::string out;
  out += "Name:        " + kube::meta_string(r.job, "name") + "\n";
  out += "Namespace:   " + kube::meta_string(r.job, "namespace") + "\n";
  out += "Origin:      " + job_origin(r.job) + "\n";
  if (auto q = job_queue(r.job); !q.empty()) out += "Queue:       " + q + "\n";
  if (auto id = job_result_id(r.job); !id.empty()) out += "Job result:  " + id + "\n";
  out += "Created:     " + kube::meta_string(r.job, "creationTimestamp") + " (" +
         since(kube::meta_string(r.job, "creationTimestamp")) + " ago)\n";
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
    out += "  " + kube::meta_string(p, "name") + "  " + (p.contains("status") ? p["status"].value("phase", "") : "") +
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
  const std::string name = kube::meta_string(j, "name");
  Lifecycle l = derive_lifecycle(j, pods);
  const json st = j.value("status", json::object());
  const json spec = j.value("spec", json::object());
  JobRow row;
  row.name = name;
  row.queue = job_queue(j);
  row.origin = job_origin(j);
  row.job_result_id = job_result_id(j);
  row.status = phase_name(l.phase);
  row.reason = l.reason + (l.exit_code && l.phase == Phase::Failed ? "(" + std::to_string(*l.exit_code) + ")" : "");
  row.completions = std::to_string(st.value("succeeded", 0)) + "/" + std::to_string(spec.value("completions", 1));
  auto start = parse_rfc3339(st.value("startTime", ""));
  auto end = parse_rfc3339(st.value("completionTime", ""));
  if (start) {
    auto stop = end ? *end : std::chrono::system_clock::now();
    row.duration = human_duration(std::chrono::duration_cast<std::chrono::seconds>(stop - *start));
  }
  row.age = since(kube::meta_string(j, "creationTimestamp"));
  return row;
}

std::vector<JobRow> list_job_rows(kube::KubeApi& api, const std::string& ns, const JobSelection& selection) {
  kube::ListOptions jo;
  jo.label_selector = server_selector(selection);
  auto jobs = api.list_jobs(ns, jo).items;
  std::erase_if(jobs, [&](const json& j) { return !selected(j, selection); });
  kube::ListOptions po;
  po.label_selector = "job-name";
  std::map<std::string, std::vector<json>> pods;
  for (auto& p : api.list_pods(ns, po).items) pods[kube::job_name_of_pod(p)].push_back(std::move(p));
  std::sort(jobs.begin(), jobs.end(), [](const json& a, const json& b) {
    return kube::meta_string(a, "creationTimestamp") > kube::meta_string(b, "creationTimestamp");
  });
  std::vector<JobRow> rows;
  rows.reserve(jobs.size());
  for (const auto& j : jobs) rows.push_back(job_row(j, pods[kube::meta_string(j, "name")]));
  return rows;
}

std::string format_job_table(const std::vector<JobRow>& rows) {
  std::vector<std::vector<std::string>> cells{
      {"NAME", "ORIGIN", "QUEUE", "STATUS", "REASON", "COMPLETIONS", "DURATION", "AGE"}};
  for (const auto& r : rows)
    cells.push_back({r.name, r.origin, r.queue, r.status, r.reason, r.completions, r.duration, r.age});
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

json job_row_to_json(const JobRow& r) {
  return {{"name", r.name},
          {"origin", r.origin},
          {"queue", r.queue},
          {"jobResultId", r.job_result_id},
          {"status", r.status},
          {"reason", r.reason},
          {"completions", r.completions},
          {"duration", r.duration},
          {"age", r.age}};
}

void watch_jobs(kube::KubeApi& api, const std::string& ns, const JobSelection& selection,
                const std::function<bool(const std::vector<JobRow>&, const std::string&)>& on_change,
                const std::atomic<bool>* cancel) {
  // Two informers, Jobs (the selection's: by label on the server when it can say it, else the
  // namespace's kept on the client) and pods (of any Job, indexed by their Job): a
  // pod that cannot pull its image or is OOM-killed shows in the row as soon as the pod says so,
  // not when the Job's status catches up. Rows are derived and on_change called on this thread.
  kube::InformerOptions job_options;
  job_options.what = "jobs";
  job_options.selectors.label_selector = server_selector(selection);
  job_options.keep = [selection](const json& job) { return selected(job, selection); };
  job_options.on_failure = kube::OnFailure::Stop;
  kube::InformerOptions pod_options;
  pod_options.what = "pods";
  pod_options.selectors.label_selector = "job-name";
  pod_options.index = [](const json& pod) { return kube::job_name_of_pod(pod); };
  pod_options.on_failure = kube::OnFailure::Stop;
  kube::Informer jobs(api, kube::jobs_resource(), ns, job_options);
  kube::Informer pods(api, kube::pods_resource(), ns, pod_options);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> changed;  // Job names; "" after a (re)list
  auto note = [&](const std::string& job) {
    std::lock_guard lock(mu);
    changed.push_back(job);
    cv.notify_all();
  };
  jobs.start({[&](const kube::InformerChange& c) {
                if (!c.from_list) note(c.name);
              },
              [&] { note(""); }, [&] { note(""); }});
  bool pods_failed_reported = false;
  pods.start({[&](const kube::InformerChange& c) {
                if (!c.from_list && jobs.get(c.index_key)) note(c.index_key);
              },
              [&] { note(""); }, [&] { note(""); }});

  auto rows = [&] {
    std::vector<kube::ObjectPtr> sorted = jobs.list();
    std::sort(sorted.begin(), sorted.end(), [](const kube::ObjectPtr& a, const kube::ObjectPtr& b) {
      return kube::creation_timestamp_of(*a) > kube::creation_timestamp_of(*b);
    });
    std::vector<JobRow> out;
    out.reserve(sorted.size());
    for (const kube::ObjectPtr& j : sorted) {
      std::vector<json> own;
      for (const kube::ObjectPtr& p : pods.by_index(kube::name_of(*j))) own.push_back(*p);
      out.push_back(job_row(*j, own));
    }
    return out;
  };
  std::exception_ptr failed;
  while (!(cancel && *cancel)) {
    std::vector<std::string> batch;
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !changed.empty(); });
      batch.swap(changed);
    }
    if ((failed = jobs.error())) break;
    if (pods.error() && !pods_failed_reported) {
      // Without pods the rows still follow the Jobs; say why they may lag.
      pods_failed_reported = true;
      spdlog::warn("not watching pods ({}); statuses come from the Jobs alone", pods.last_error());
    }
    // Rows only once the Jobs are listed (the pods may still be listing, or failed: see above).
    if (!jobs.synced()) continue;
    bool stop = false;
    for (const std::string& job : batch) {
      if (job.empty() && !pods.synced() && !pods.error()) continue;
      if (!on_change(rows(), job)) {
        stop = true;
        break;
      }
    }
    if (stop) break;
  }
  jobs.stop();
  pods.stop();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace kjq::dispatch
