#include "queue/job_preparation.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "util/diagnostic.hpp"
#include "util/json_limits.hpp"

namespace kjq::queue {

using ojson = nlohmann::ordered_json;

namespace {

InputError path_error(const std::string& path, const std::string& message) {
  return InputError(Diagnostic{"", 0, 0, path, message});
}

void dump_string(const std::string& s, std::string& out) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void dump(const ojson& v, std::string& out) {
  switch (v.type()) {
    case ojson::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        dump_string(it.key(), out);
        out += ": ";
        dump(it.value(), out);
      }
      out.push_back('}');
      break;
    }
    case ojson::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        dump(e, out);
      }
      out.push_back(']');
      break;
    }
    case ojson::value_t::string:
      dump_string(v.get<std::string>(), out);
      break;
    case ojson::value_t::null:
      out += "null";
      break;
    case ojson::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    default:
      out += v.dump();
      break;  // numbers: shortest round-trip, like Python's repr
  }
}

}  // namespace

std::string python_json_dumps(const ojson& value) {
  std::string out;
  dump(value, out);
  return out;
}

bool is_dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-') return false;
  return true;
}

std::string queue_label_value(const std::string& queue) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  };
  bool valid = !queue.empty() && queue.size() <= 63 && std::isalnum(static_cast<unsigned char>(queue.front())) &&
               std::isalnum(static_cast<unsigned char>(queue.back()));
  for (char c : queue) valid = valid && ok(c);
  if (valid) return queue;
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : queue) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "q-%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string pod_name_prefix_from_env() {
  const char* v = std::getenv("NAUTOBOT_KUBERNETES_JOB_POD_NAME");
  return v && *v ? v : kDefaultPodNamePrefix;
}

std::string config_path_from_env() {
  // Nautobot's own order: NAUTOBOT_CONFIG, else $NAUTOBOT_ROOT/nautobot_config.py. Nautobot's last
  // resort is ~/.nautobot, a home directory on the machine that dispatches; the job's pod runs
  // Nautobot's image, whose root is /opt/nautobot, so that is kjq's.
  if (const char* v = std::getenv("NAUTOBOT_CONFIG"); v && *v) return v;
  if (const char* root = std::getenv("NAUTOBOT_ROOT"); root && *root) {
    std::string r = root;
    while (r.size() > 1 && r.back() == '/') r.pop_back();
    return r + (r == "/" ? "" : "/") + "nautobot_config.py";
  }
  return kDefaultConfigPath;
}

PreparedJob prepare_job(ojson manifest, const RunRequest& r) {
  if (r.job_result_id.empty()) throw path_error("--job-result-id", "no job result id given");
  const std::string name = r.name_prefix + "-" + r.job_result_id;
  if (name.size() > 63)
    throw path_error("metadata.name",
                     "the Job name \"" + name + "\" is " + std::to_string(name.size()) +
                         " characters; at most 63 are allowed (shorten NAUTOBOT_KUBERNETES_JOB_POD_NAME)");
  if (!is_dns1123_label(name))
    throw path_error("metadata.name",
                     "the Job name \"" + name +
                         "\" is not a DNS-1123 label (lower-case letters, digits and '-', starting and "
                         "ending with a letter or digit)");
  ojson data;
  if (auto why = json_limit_violation(r.data_json, kInputJsonLimits)) throw path_error("--data", "refused: " + *why);
  // Nautobot reads the kwargs with Python's json, which keeps any integer; a double would not.
  if (auto inexact = json_inexact_integer(r.data_json, "")) throw path_error("--data", *inexact);
  try {
    data = ojson::parse(r.data_json);
  } catch (const ojson::parse_error& e) {
    throw path_error("--data", std::string("invalid JSON: ") + e.what());
  }
  if (!data.is_object()) throw path_error("--data", "the job data must be a JSON object (the job's keyword arguments)");

  if (!manifest.contains("metadata") || !manifest["metadata"].is_object()) manifest["metadata"] = ojson::object();
  ojson& meta = manifest["metadata"];
  meta["name"] = name;
  if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = ojson::object();
  meta["labels"][kQueueLabel] = queue_label_value(r.queue);
  meta["labels"][kJobResultLabel] = r.job_result_id;
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) meta["annotations"] = ojson::object();
  meta["annotations"][kQueueAnnotation] = r.queue;

  ojson& container = manifest["spec"]["template"]["spec"]["containers"][0];
  container["command"] = ojson::array({"nautobot-server", "runjob_with_job_result", r.job_result_id,
                                       "--config=" + r.config_path, "--data", python_json_dumps(data)});
  return {std::move(manifest), name};
}

}  // namespace kjq::queue
