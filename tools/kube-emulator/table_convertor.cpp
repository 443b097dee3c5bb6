#include "table_convertor.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>

#include "api_status.hpp"

namespace kjq::emulator {

using nlohmann::json;
using SysTime = std::chrono::system_clock::time_point;

namespace {

std::string table_trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string table_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "" for a plain-object clause, "v1"/"v1beta1" for a Table clause, "-" for a clause to skip.
std::string table_version_of_clause(const std::string& clause) {
  std::map<std::string, std::string> params;
  std::string media_type;
  std::size_t start = 0;
  for (bool first = true;; first = false) {
    const auto semi = clause.find(';', start);
    const std::string part =
        table_trim(clause.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
    if (first) {
      media_type = table_lower(part);
    } else if (const auto eq = part.find('='); eq != std::string::npos) {
      std::string value = table_trim(part.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      params[table_lower(table_trim(part.substr(0, eq)))] = value;
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (auto q = params.find("q"); q != params.end() && std::strtod(q->second.c_str(), nullptr) <= 0) return "-";
  const bool json_like = media_type == "application/json" || media_type == "*/*" || media_type == "application/*";
  if (!json_like) return "-";  // protobuf, yaml, cbor: the emulator answers JSON only
  const auto as = params.find("as");
  if (as == params.end() || as->second.empty()) return "";
  if (as->second != "Table" || params["g"] != "meta.k8s.io") return "-";
  const std::string& v = params["v"];
  return v == "v1" || v == "v1beta1" ? v : "-";
}

std::optional<SysTime> parse_time(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  std::tm tm{};
  if (s.size() < 20 || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Go's translateTimestampSince.
std::string since(const json& timestamp, SysTime now) {
  auto t = parse_time(timestamp);
  if (!t) return "<unknown>";
  return human_duration(now - *t);
}

std::string rfc3339_utc(const json& timestamp) {
  auto t = parse_time(timestamp);
  if (!t) return "";
  std::time_t tt = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const json& field(const json& o, const char* key) {
  static const json null_json;
  if (!o.is_object()) return null_json;
  auto it = o.find(key);
  return it == o.end() ? null_json : *it;
}

std::string str(const json& o, const char* key) {
  const json& v = field(o, key);
  return v.is_string() ? v.get<std::string>() : "";
}

long long num(const json& o, const char* key, long long fallback = 0) {
  const json& v = field(o, key);
  return v.is_number_integer() ? v.get<long long>() : fallback;
}

std::size_t count_of(const json& v) { return v.is_object() || v.is_array() ? v.size() : 0; }

json column(const char* name, const char* description, int priority = 0, const char* type = "string",
            const char* format = "") {
  return {{"name", name}, {"type", type}, {"format", format}, {"description", description}, {"priority", priority}};
}

json name_column() { return column("Name", "Name of the object, unique within its namespace.", 0, "string", "name"); }
json age_column() { return column("Age", "Time since the object was created.", 0); }

bool condition_true(const json& status, const char* type) {
  for (const auto& c : field(status, "conditions").is_array() ? field(status, "conditions") : json::array())
    if (str(c, "type") == type && str(c, "status") == "True") return true;
  return false;
}

// metav1.FormatLabelSelector: requirements sorted by key; "<none>" when empty.
std::string format_selector(const json& selector) {
  std::vector<std::pair<std::string, std::string>> reqs;  // key, text
  const json& match_labels = field(selector, "matchLabels");
  if (match_labels.is_object())
    for (const auto& [k, v] : match_labels.items())
      reqs.emplace_back(k, k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  for (const auto& e :
       field(selector, "matchExpressions").is_array() ? field(selector, "matchExpressions") : json::array()) {
    const std::string key = str(e, "key"), op = str(e, "operator");
    std::vector<std::string> values;
    for (const auto& v : field(e, "values").is_array() ? field(e, "values") : json::array())
      if (v.is_string()) values.push_back(v.get<std::string>());
    std::sort(values.begin(), values.end());
    std::string joined;
    for (const auto& v : values) {
      if (!joined.empty()) joined += ',';
      joined += v;
    }
    if (op == "In")
      reqs.emplace_back(key, key + " in (" + joined + ")");
    else if (op == "NotIn")
      reqs.emplace_back(key, key + " notin (" + joined + ")");
    else if (op == "Exists")
      reqs.emplace_back(key, key);
    else if (op == "DoesNotExist")
      reqs.emplace_back(key, "!" + key);
    else
      return "<error>";
  }
  std::stable_sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& r : reqs) out += (out.empty() ? "" : ",") + r.second;
  return out.empty() ? "<none>" : out;
}

// --- one printer per resource -------------------------------------------------------------

json job_columns() {
  return json::array({name_column(), column("Status", "Status of the job."),
                      column("Completions", "Succeeded pods out of the completions wanted."),
                      column("Duration", "Time the job took to complete (or has been running)."), age_column(),
                      column("Containers", "Names of the containers in the pod template.", 1),
                      column("Images", "Images of the containers in the pod template.", 1),
                      column("Selector", "The job's pod selector.", 1)});
}

json job_cells(const json& job, SysTime now) {
  const json& meta = field(job, "metadata");
  const json& spec = field(job, "spec");
  const json& status = field(job, "status");
  const long long succeeded = num(status, "succeeded");
  std::string completions;
  if (field(spec, "completions").is_number_integer()) {
    completions = std::to_string(succeeded) + "/" + std::to_string(num(spec, "completions"));
  } else {
    const long long parallelism = num(spec, "parallelism");
    completions = std::to_string(succeeded) + "/1" + (parallelism > 1 ? " of " + std::to_string(parallelism) : "");
  }
  std::string duration;
  auto start = parse_time(field(status, "startTime"));
  auto end = parse_time(field(status, "completionTime"));
  if (start) duration = human_duration((end ? *end : now) - *start);
  std::string phase = "Running";
  if (condition_true(status, "Complete"))
    phase = "Complete";
  else if (condition_true(status, "Failed"))
    phase = "Failed";
  else if (!field(meta, "deletionTimestamp").is_null())
    phase = "Terminating";
  else if (condition_true(status, "Suspended"))
    phase = "Suspended";
  else if (condition_true(status, "FailureTarget"))
    phase = "FailureTarget";
  else if (condition_true(status, "SuccessCriteriaMet"))
    phase = "SuccessCriteriaMet";
  std::string names, images;
  const json& containers = field(field(field(spec, "template"), "spec"), "containers");
  for (const auto& c : containers.is_array() ? containers : json::array()) {
    names += (names.empty() ? "" : ",") + str(c, "name");
    images += (images.empty() ? "" : ",") + str(c, "image");
  }
  return json::array({str(meta, "name"), phase, completions, duration, since(field(meta, "creationTimestamp"), now),
                      names, images, format_selector(field(spec, "selector"))});
}

json pod_columns() {
  return json::array({name_column(), column("Ready", "Ready containers out of all containers."),
                      column("Status", "The aggregate status of the pod's containers."),
                      column("Restarts", "Container restarts, and how long ago the last one was."), age_column(),
                      column("IP", "The pod's IP address.", 1), column("Node", "The node the pod runs on.", 1),
                      column("Nominated Node", "The node the scheduler nominated for preemption.", 1),
                      column("Readiness Gates", "Readiness gates that are true, out of all.", 1)});
}

json pod_row(const json& pod, SysTime now) {
  const json& meta = field(pod, "metadata");
  const json& spec = field(pod, "spec");
  const json& status = field(pod, "status");
  const std::string phase = str(status, "phase");
  std::string reason = str(status, "reason").empty() ? phase : str(status, "reason");
  const json empty_array = json::array();
  const json& conditions = field(status, "conditions").is_array() ? field(status, "conditions") : empty_array;
  for (const auto& c : conditions)
    if (str(c, "type") == "PodScheduled" && str(c, "reason") == "SchedulingGated") reason = "SchedulingGated";
  std::size_t total = count_of(field(spec, "containers"));
  for (const auto& ic : field(spec, "initContainers").is_array() ? field(spec, "initContainers") : empty_array)
    if (str(ic, "restartPolicy") == "Always") ++total;
  long long restarts = 0;
  int ready = 0;
  bool running = false;
  std::optional<SysTime> last_restart;
  const json& statuses =
      field(status, "containerStatuses").is_array() ? field(status, "containerStatuses") : empty_array;
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const json& cs = *it;
    restarts += num(cs, "restartCount");
    if (auto t = parse_time(field(field(field(cs, "lastState"), "terminated"), "finishedAt"));
        t && (!last_restart || *last_restart < *t))
      last_restart = t;
    const json& state = field(cs, "state");
    const json& waiting = field(state, "waiting");
    const json& terminated = field(state, "terminated");
    if (!waiting.is_null() && !str(waiting, "reason").empty()) {
      reason = str(waiting, "reason");
    } else if (!terminated.is_null() && !str(terminated, "reason").empty()) {
      reason = str(terminated, "reason");
    } else if (!terminated.is_null()) {
      reason = num(terminated, "signal") != 0 ? "Signal:" + std::to_string(num(terminated, "signal"))
                                              : "ExitCode:" + std::to_string(num(terminated, "exitCode"));
    } else if (field(cs, "ready") == true && !field(state, "running").is_null()) {
      running = true;
      ++ready;
    }
  }
  if (reason == "Completed" && running) reason = condition_true(status, "Ready") ? "Running" : "NotReady";
  if (!field(meta, "deletionTimestamp").is_null()) {
    if (str(status, "reason") == "NodeLost")
      reason = "Unknown";
    else if (phase != "Succeeded" && phase != "Failed")
      reason = "Terminating";
  }
  std::string restarts_text = std::to_string(restarts);
  if (restarts != 0 && last_restart) restarts_text += " (" + human_duration(now - *last_restart) + " ago)";
  std::string ip;
  if (field(status, "podIPs").is_array() && !field(status, "podIPs").empty())
    ip = str(field(status, "podIPs")[0], "ip");
  std::string node = str(spec, "nodeName"), nominated = str(status, "nominatedNodeName");
  std::string gates = "<none>";
  if (count_of(field(spec, "readinessGates")) > 0) {
    int true_gates = 0;
    for (const auto& g : field(spec, "readinessGates"))
      for (const auto& c : conditions)
        if (str(c, "type") == str(g, "conditionType")) {
          true_gates += str(c, "status") == "True" ? 1 : 0;
          break;
        }
    gates = std::to_string(true_gates) + "/" + std::to_string(field(spec, "readinessGates").size());
  }
  json row = {
      {"cells", json::array({str(meta, "name"), std::to_string(ready) + "/" + std::to_string(total), reason,
                             restarts_text, since(field(meta, "creationTimestamp"), now), ip.empty() ? "<none>" : ip,
                             node.empty() ? "<none>" : node, nominated.empty() ? "<none>" : nominated, gates})}};
  if (phase == "Succeeded")
    row["conditions"] = json::array({{{"type", "Completed"},
                                      {"status", "True"},
                                      {"reason", "Succeeded"},
                                      {"message", "The pod has completed successfully."}}});
  else if (phase == "Failed")
    row["conditions"] = json::array(
        {{{"type", "Completed"}, {"status", "True"}, {"reason", "Failed"}, {"message", "The pod failed."}}});
  return row;
}

json event_columns() {
  return json::array({column("Last Seen", "When the event was last observed."), column("Type", "Normal or Warning."),
                      column("Reason", "Why the event happened (machine-readable)."),
                      column("Object", "The object the event is about."),
                      column("Subobject", "The part of the object, e.g. a container.", 1),
                      column("Source", "The component (and host) that reported the event.", 1),
                      column("Message", "What happened (human-readable)."),
                      column("First Seen", "When the event was first observed.", 1),
                      column("Count", "How many times the event happened.", 1),
                      column("Name", "Name of the event.", 1, "string", "name")});
}

json event_cells(const json& ev, SysTime now) {
  std::string first = since(field(ev, "firstTimestamp"), now);
  if (!parse_time(field(ev, "firstTimestamp"))) first = since(field(ev, "eventTime"), now);
  std::string last = since(field(ev, "lastTimestamp"), now);
  if (!parse_time(field(ev, "lastTimestamp"))) last = first;
  long long count = num(ev, "count");
  if (field(ev, "series").is_object()) {
    last = since(field(field(ev, "series"), "lastObservedTime"), now);
    count = num(field(ev, "series"), "count");
  } else if (count == 0) {
    count = 1;
  }
  const json& involved = field(ev, "involvedObject");
  std::string kind = table_lower(str(involved, "kind"));
  std::string target = str(involved, "name").empty() ? kind : kind + "/" + str(involved, "name");
  const json& source = field(ev, "source");
  std::string component = str(source, "component").empty() ? str(ev, "reportingComponent") : str(source, "component");
  std::string instance = str(source, "host").empty() ? str(ev, "reportingInstance") : str(source, "host");
  std::string message = table_trim(str(ev, "message"));
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  return json::array({last, str(ev, "type"), str(ev, "reason"), target, str(involved, "fieldPath"),
                      instance.empty() ? component : component + ", " + instance, message, first, count,
                      str(field(ev, "metadata"), "name")});
}

json binding_cells(const json& b, SysTime now) {
  std::vector<std::string> users, groups, sas;
  for (const auto& s : field(b, "subjects").is_array() ? field(b, "subjects") : json::array()) {
    const std::string kind = str(s, "kind");
    if (kind == "ServiceAccount")
      sas.push_back(str(s, "namespace") + "/" + str(s, "name"));
    else if (kind == "User")
      users.push_back(str(s, "name"));
    else if (kind == "Group")
      groups.push_back(str(s, "name"));
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  const json& ref = field(b, "roleRef");
  return json::array({str(field(b, "metadata"), "name"), str(ref, "kind") + "/" + str(ref, "name"),
                      since(field(field(b, "metadata"), "creationTimestamp"), now), join(users), join(groups),
                      join(sas)});
}

}  // namespace

std::string table_version_for_accept(const std::string& accept) {
  std::size_t start = 0;
  while (start <= accept.size()) {
    const auto comma = accept.find(',', start);
    const std::string clause = accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!table_trim(clause).empty()) {
      std::string v = table_version_of_clause(clause);
      if (v != "-") return v;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

std::string table_content_type(const std::string& table_version) {
  return "application/json;as=Table;v=" + table_version + ";g=meta.k8s.io";
}

TableOptions make_table_options(const std::string& table_version, const std::string& include_object) {
  TableOptions o;
  if (table_version.empty()) return o;  // no Table asked for: includeObject means nothing
  o.version = table_version;
  if (include_object.empty() || include_object == "Metadata" || include_object == "None" || include_object == "Object")
    o.include_object = include_object.empty() ? "Metadata" : include_object;
  else
    throw bad_request("Unable to convert to Table as requested: includeObject: Unsupported value: \"" + include_object +
                      "\": supported values: \"Metadata\", \"None\", \"Object\"");
  return o;
}

json table_columns(const ResourceType& type) {
  const std::string& r = type.resource;
  if (r == "jobs") return job_columns();
  if (r == "pods") return pod_columns();
  if (r == "events") return event_columns();
  if (r == "configmaps")
    return json::array({name_column(), column("Data", "Number of keys in data and binaryData."), age_column()});
  if (r == "serviceaccounts")
    return json::array({name_column(), column("Secrets", "Number of secrets listed on the account."), age_column()});
  if (r == "roles" || r == "clusterroles")
    return json::array({name_column(), column("Created At", "When the object was created.")});
  if (r == "rolebindings" || r == "clusterrolebindings")
    return json::array({name_column(), column("Role", "The role the binding grants."), age_column(),
                        column("Users", "Users the binding names.", 1),
                        column("Groups", "Groups the binding names.", 1),
                        column("ServiceAccounts", "Service accounts the binding names.", 1)});
  return json::array({name_column(), column("Created At", "When the object was created.", 0, "date")});
}

json table_row(const ResourceType& type, const json& object, const TableOptions& options, SysTime now) {
  const std::string& r = type.resource;
  const json& meta = field(object, "metadata");
  json row;
  if (r == "pods")
    row = pod_row(object, now);
  else if (r == "jobs")
    row = {{"cells", job_cells(object, now)}};
  else if (r == "events")
    row = {{"cells", event_cells(object, now)}};
  else if (r == "configmaps")
    row = {{"cells",
            json::array({str(meta, "name"), count_of(field(object, "data")) + count_of(field(object, "binaryData")),
                         since(field(meta, "creationTimestamp"), now)})}};
  else if (r == "serviceaccounts")
    row = {{"cells", json::array({str(meta, "name"), count_of(field(object, "secrets")),
                                  since(field(meta, "creationTimestamp"), now)})}};
  else if (r == "rolebindings" || r == "clusterrolebindings")
    row = {{"cells", binding_cells(object, now)}};
  else
    row = {{"cells", json::array({str(meta, "name"), rfc3339_utc(field(meta, "creationTimestamp"))})}};
  if (options.include_object == "Object")
    row["object"] = object;
  else if (options.include_object == "None")
    row["object"] = nullptr;
  else
    row["object"] = {{"kind", "PartialObjectMetadata"},
                     {"apiVersion", "meta.k8s.io/" + options.version},
                     {"metadata", meta.is_object() ? meta : json::object()}};
  return row;
}

json make_table(const ResourceType& type, const std::vector<json>& objects, const json& list_metadata,
                const TableOptions& options) {
  const auto now = std::chrono::system_clock::now();
  json rows = json::array();
  for (const auto& o : objects) rows.push_back(table_row(type, o, options, now));
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/" + options.version},
          {"metadata", list_metadata.is_object() ? list_metadata : json::object()},
          {"columnDefinitions", options.no_headers ? json(nullptr) : table_columns(type)},
          {"rows", rows}};
}

std::string human_duration(std::chrono::system_clock::duration d) {
  using namespace std::chrono;
  const long long seconds = duration_cast<std::chrono::seconds>(d).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  const long long minutes = seconds / 60;
  if (minutes < 10) {
    const long long s = seconds % 60;
    return std::to_string(minutes) + "m" + (s == 0 ? "" : std::to_string(s) + "s");
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  const long long hours = seconds / 3600;
  if (hours < 8) {
    const long long m = minutes % 60;
    return std::to_string(hours) + "h" + (m == 0 ? "" : std::to_string(m) + "m");
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    const long long h = hours % 24;
    return std::to_string(hours / 24) + "d" + (h == 0 ? "" : std::to_string(h) + "h");
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const long long dy = (hours / 24) % 365;
    return std::to_string(hours / 24 / 365) + "y" + (dy == 0 ? "" : std::to_string(dy) + "d");
  }
  return std::to_string(hours / 24 / 365) + "y";
}

}  // namespace kjq::emulator
