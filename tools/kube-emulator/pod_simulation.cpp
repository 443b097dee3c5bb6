#include "pod_simulation.hpp"

#include <cstdio>

#include "object_store.hpp"
#include "sim_clock.hpp"

namespace kjq::emulator {

using nlohmann::json;

std::optional<Outcome> parse_outcome(const std::string& t) {
  if (t == "succeed" || t == "success") return Outcome::Succeed;
  if (t == "fail" || t == "failure") return Outcome::Fail;
  if (t == "oom") return Outcome::Oom;
  if (t == "image-pull-error") return Outcome::ImagePullError;
  if (t == "create-container-config-error") return Outcome::ConfigError;
  if (t == "invalid-image-name") return Outcome::InvalidImage;
  if (t == "unschedulable") return Outcome::Unschedulable;
  if (t == "hang") return Outcome::Hang;
  return std::nullopt;
}

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Succeed:
      return "succeed";
    case Outcome::Fail:
      return "fail";
    case Outcome::Oom:
      return "oom";
    case Outcome::ImagePullError:
      return "image-pull-error";
    case Outcome::ConfigError:
      return "create-container-config-error";
    case Outcome::InvalidImage:
      return "invalid-image-name";
    case Outcome::Unschedulable:
      return "unschedulable";
    case Outcome::Hang:
      return "hang";
  }
  return "succeed";
}

namespace {

// The Secret a CreateContainerConfigError names: the container's first envFrom secretRef (what a
// chart-rendered manifest references), else a stand-in name.
std::string missing_secret(const json& container) {
  for (const auto& from : container.value("envFrom", json::array()))
    if (from.is_object() && from.contains("secretRef") && from["secretRef"].is_object())
      if (auto n = from["secretRef"].value("name", ""); !n.empty()) return n;
  return "kube-emulator-missing-secret";
}

std::string invalid_image_message(const std::string& image) {
  return "Failed to apply default image tag \"" + image + "\": couldn't parse image reference \"" + image +
         "\": invalid reference format";
}

double parse_seconds(const json& annotations, const char* key, double fallback) {
  if (!annotations.is_object() || !annotations.contains(key) || !annotations[key].is_string()) return fallback;
  try {
    double v = std::stod(annotations[key].get<std::string>());
    return v >= 0 ? v : fallback;
  } catch (...) {
    return fallback;
  }
}

std::string first_image(const json& pod_spec) {
  if (pod_spec.contains("containers") && pod_spec["containers"].is_array() && !pod_spec["containers"].empty())
    return pod_spec["containers"][0].value("image", "");
  return "";
}

std::string image_id(const std::string& image) {
  // A stable fake digest derived from the image name.
  std::size_t h = std::hash<std::string>{}(image);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%016zx%016zx%016zx%016zx", h, h ^ 0x5bd1e995, h * 31, ~h);
  std::string ref = image;
  auto colon = ref.rfind(':');
  if (colon != std::string::npos && ref.find('/', colon) == std::string::npos) ref = ref.substr(0, colon);
  return ref + "@sha256:" + std::string(buf, 64);
}

json condition(const std::string& type, bool status, const std::string& when, const std::string& reason = "",
               const std::string& message = "") {
  json c = {
      {"type", type}, {"status", status ? "True" : "False"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", when}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace

PodPlan plan_from_template(const json& pod_template, const SimulationDefaults& d, const std::string& job_name) {
  PodPlan p;
  p.outcome = d.outcome;
  p.pull_seconds = d.pull_seconds;
  p.run_seconds = d.run_seconds;
  json annotations = json::object();
  if (pod_template.contains("metadata") && pod_template["metadata"].is_object())
    annotations = pod_template["metadata"].value("annotations", json::object());
  if (annotations.contains("kube-emulator/outcome") && annotations["kube-emulator/outcome"].is_string())
    if (auto o = parse_outcome(annotations["kube-emulator/outcome"].get<std::string>())) p.outcome = *o;
  p.run_seconds = parse_seconds(annotations, "kube-emulator/run-seconds", p.run_seconds);
  p.pull_seconds = parse_seconds(annotations, "kube-emulator/pull-seconds", p.pull_seconds);
  switch (p.outcome) {
    case Outcome::Fail:
      p.exit_code = 1;
      break;
    case Outcome::Oom:
      p.exit_code = 137;
      break;
    default:
      p.exit_code = 0;
  }
  if (annotations.contains("kube-emulator/exit-code") && annotations["kube-emulator/exit-code"].is_string()) {
    try {
      p.exit_code = std::stoi(annotations["kube-emulator/exit-code"].get<std::string>());
    } catch (...) {
    }
  }
  if (annotations.contains("kube-emulator/log") && annotations["kube-emulator/log"].is_string()) {
    p.log = annotations["kube-emulator/log"].get<std::string>();
    if (!p.log.empty() && p.log.back() != '\n') p.log += '\n';
  } else {
    std::string cmd;
    const json spec = pod_template.value("spec", json::object());
    if (spec.contains("containers") && spec["containers"].is_array() && !spec["containers"].empty())
      for (const auto& part : spec["containers"][0].value("command", json::array())) {
        if (!cmd.empty()) cmd += ' ';
        cmd += part.is_string() ? part.get<std::string>() : part.dump();
      }
    p.log = "kube-emulator: job " + job_name + " started" + (cmd.empty() ? "" : ": " + cmd) + "\n";
    if (p.outcome == Outcome::Succeed) p.log += "kube-emulator: job " + job_name + " finished\n";
    if (p.outcome == Outcome::Fail)
      p.log += "kube-emulator: simulated failure, exit code " + std::to_string(p.exit_code) + "\n";
    if (p.outcome == Outcome::Oom) p.log += "kube-emulator: allocating memory\n";
  }
  return p;
}

int final_stage(Outcome o) {
  switch (o) {
    case Outcome::Unschedulable:
      return 0;
    case Outcome::Hang:
    case Outcome::ConfigError:  // the kubelet retries for ever; the pod stays Pending
    case Outcome::InvalidImage:
      return 1;
    default:
      return 2;
  }
}

bool stage_is_terminated(Outcome o, int stage) {
  return stage == 2 && (o == Outcome::Succeed || o == Outcome::Fail || o == Outcome::Oom);
}

bool stage_is_running(Outcome o, int stage) {
  return stage == 1 && o != Outcome::ImagePullError && o != Outcome::Unschedulable && o != Outcome::ConfigError &&
         o != Outcome::InvalidImage;
}

double stage_offset_seconds(const PodPlan& plan, int stage) {
  if (stage <= 0) return 0;
  if (stage > final_stage(plan.outcome)) return -1;
  if (plan.outcome == Outcome::ImagePullError) return plan.pull_seconds * stage;
  if (stage == 1) return plan.pull_seconds;
  return plan.pull_seconds + plan.run_seconds;
}

json make_job_pod(const json& job, const std::string& pod_name, const std::string& node) {
  const json& meta = job["metadata"];
  const json& tmpl = job["spec"]["template"];
  json tmeta = tmpl.value("metadata", json::object());
  json pod = {{"kind", "Pod"}, {"apiVersion", "v1"}};
  json pmeta = {{"name", pod_name},
                {"generateName", meta.value("name", "") + "-"},
                {"namespace", meta.value("namespace", "default")}};
  pmeta["labels"] = tmeta.value("labels", json::object());
  if (tmeta.contains("annotations")) pmeta["annotations"] = tmeta["annotations"];
  pmeta["ownerReferences"] = json::array({{{"apiVersion", "batch/v1"},
                                           {"kind", "Job"},
                                           {"name", meta.value("name", "")},
                                           {"uid", meta.value("uid", "")},
                                           {"controller", true},
                                           {"blockOwnerDeletion", true}}});
  pod["metadata"] = pmeta;
  json spec = tmpl.value("spec", json::object());
  if (!spec.contains("serviceAccountName")) spec["serviceAccountName"] = "default";
  spec["serviceAccount"] = spec["serviceAccountName"];
  if (!node.empty()) spec["nodeName"] = node;
  if (!spec.contains("priority")) spec["priority"] = 0;
  if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
  if (!spec.contains("preemptionPolicy")) spec["preemptionPolicy"] = "PreemptLowerPriority";
  pod["spec"] = spec;
  pod["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
  return pod;
}

json pod_status(const json& pod, const PodPlan& plan, int stage, const PodTimes& t) {
  const json& spec = pod["spec"];
  json status = json::object();
  json containers = json::array();
  std::vector<std::string> names;
  for (const auto& c : spec.value("containers", json::array())) names.push_back(c.value("name", ""));
  std::string names_list;
  for (const auto& n : names) {
    if (!names_list.empty()) names_list += ' ';
    names_list += n;
  }
  const std::string image = first_image(spec);
  const bool terminated = stage_is_terminated(plan.outcome, stage);
  const bool running = stage_is_running(plan.outcome, stage);
  const bool succeeded = terminated && plan.exit_code == 0;

  if (plan.outcome == Outcome::Unschedulable) {
    status["phase"] = "Pending";
    status["conditions"] = json::array({condition("PodScheduled", false, t.created, "Unschedulable",
                                                  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
                                                  "nodes are available: 1 No preemption victims found for "
                                                  "incoming pod.")});
    status["qosClass"] = "BestEffort";
    return status;
  }
  status["phase"] = terminated ? (succeeded ? "Succeeded" : "Failed") : (running ? "Running" : "Pending");
  const std::string ready_reason = terminated ? "PodCompleted" : "ContainersNotReady";
  const std::string ready_msg = terminated ? "" : "containers with unready status: [" + names_list + "]";
  status["conditions"] = json::array(
      {condition("PodReadyToStartContainers", stage >= 1 && !terminated, t.created),
       condition("Initialized", true, t.created),
       running ? condition("Ready", true, t.started) : condition("Ready", false, t.created, ready_reason, ready_msg),
       running ? condition("ContainersReady", true, t.started)
               : condition("ContainersReady", false, t.created, ready_reason, ready_msg),
       condition("PodScheduled", true, t.created)});
  status["hostIP"] = "10.89.0.2";
  status["hostIPs"] = json::array({{{"ip", "10.89.0.2"}}});
  if (running || terminated) {
    std::string ip =
        "10.244.0." + std::to_string(2 + std::hash<std::string>{}(pod["metadata"].value("name", "")) % 250);
    if (running) {
      status["podIP"] = ip;
      status["podIPs"] = json::array({{{"ip", ip}}});
    }
  }
  status["startTime"] = t.created;
  for (const auto& c : spec.value("containers", json::array())) {
    const std::string cimage = c.value("image", "");
    json cs = {{"name", c.value("name", "")},
               {"image", cimage},
               {"imageID", ""},
               {"ready", running},
               {"restartCount", 0},
               {"started", running},
               {"lastState", json::object()}};
    char cid[40];
    std::snprintf(cid, sizeof cid, "%016zx%016zx",
                  std::hash<std::string>{}(pod["metadata"].value("uid", "") + c.value("name", "")),
                  std::hash<std::string>{}(c.value("name", "") + pod["metadata"].value("name", "")));
    std::string container_id = std::string("containerd://") + cid;
    if (plan.outcome == Outcome::ImagePullError) {
      if (stage == 0)
        cs["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
      else if (stage == 1)
        cs["state"] = {
            {"waiting",
             {{"reason", "ErrImagePull"},
              {"message", "rpc error: code = NotFound desc = failed to pull and unpack image \"" + cimage +
                              "\": failed to resolve reference \"" + cimage + "\": " + cimage + ": not found"}}}};
      else
        cs["state"] = {
            {"waiting", {{"reason", "ImagePullBackOff"}, {"message", "Back-off pulling image \"" + cimage + "\""}}}};
    } else if (stage == 0) {
      cs["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
    } else if (plan.outcome == Outcome::ConfigError) {
      cs["imageID"] = image_id(cimage);
      cs["state"] = {
          {"waiting",
           {{"reason", "CreateContainerConfigError"}, {"message", "secret \"" + missing_secret(c) + "\" not found"}}}};
    } else if (plan.outcome == Outcome::InvalidImage) {
      cs["state"] = {{"waiting", {{"reason", "InvalidImageName"}, {"message", invalid_image_message(cimage)}}}};
    } else {
      cs["imageID"] = image_id(cimage);
      cs["containerID"] = container_id;
      if (running) {
        cs["state"] = {{"running", {{"startedAt", t.started}}}};
      } else {
        std::string reason = plan.outcome == Outcome::Oom ? "OOMKilled" : plan.exit_code == 0 ? "Completed" : "Error";
        cs["state"] = {{"terminated",
                        {{"exitCode", plan.exit_code},
                         {"reason", reason},
                         {"startedAt", t.started},
                         {"finishedAt", t.finished},
                         {"containerID", container_id}}}};
      }
    }
    containers.push_back(cs);
  }
  status["containerStatuses"] = containers;
  status["qosClass"] = "BestEffort";
  (void)image;
  return status;
}

std::vector<EventSpec> pod_stage_events(const json& pod, const PodPlan& plan, int stage, const std::string& node) {
  std::vector<EventSpec> ev;
  const std::string ns = pod["metadata"].value("namespace", "");
  const std::string name = pod["metadata"].value("name", "");
  const json& c = pod["spec"]["containers"][0];
  const std::string cname = c.value("name", "");
  const std::string image = c.value("image", "");
  const std::string fp = "spec.containers{" + cname + "}";
  if (plan.outcome == Outcome::Unschedulable) {
    if (stage == 0)
      ev.push_back({"Warning", "FailedScheduling",
                    "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No "
                    "preemption victims found for incoming pod.",
                    "default-scheduler", ""});
    return ev;
  }
  if (stage == 0) {
    ev.push_back(
        {"Normal", "Scheduled", "Successfully assigned " + ns + "/" + name + " to " + node, "default-scheduler", ""});
    if (plan.outcome != Outcome::InvalidImage)  // a reference that does not parse is never pulled
      ev.push_back({"Normal", "Pulling", "Pulling image \"" + image + "\"", "kubelet", fp});
    return ev;
  }
  if (plan.outcome == Outcome::ImagePullError) {
    if (stage == 1) {
      ev.push_back({"Warning", "Failed",
                    "Failed to pull image \"" + image +
                        "\": rpc error: code = NotFound desc = failed to pull and "
                        "unpack image \"" +
                        image + "\": failed to resolve reference \"" + image + "\": not found",
                    "kubelet", fp});
      ev.push_back({"Warning", "Failed", "Error: ErrImagePull", "kubelet", fp});
    } else {
      ev.push_back({"Normal", "BackOff", "Back-off pulling image \"" + image + "\"", "kubelet", fp});
      ev.push_back({"Warning", "Failed", "Error: ImagePullBackOff", "kubelet", fp});
    }
    return ev;
  }
  if (plan.outcome == Outcome::ConfigError) {
    ev.push_back({"Normal", "Pulled", "Container image \"" + image + "\" already present on machine", "kubelet", fp});
    ev.push_back({"Warning", "Failed", "Error: secret \"" + missing_secret(c) + "\" not found", "kubelet", fp});
    return ev;
  }
  if (plan.outcome == Outcome::InvalidImage) {
    ev.push_back({"Warning", "InspectFailed", invalid_image_message(image), "kubelet", fp});
    ev.push_back({"Warning", "Failed", "Error: InvalidImageName", "kubelet", fp});
    return ev;
  }
  if (stage == 1) {
    char ms[64];
    std::snprintf(ms, sizeof ms, "%dms", static_cast<int>(plan.pull_seconds * 1000));
    ev.push_back({"Normal", "Pulled", "Successfully pulled image \"" + image + "\" in " + ms, "kubelet", fp});
    ev.push_back({"Normal", "Created", "Created container " + cname, "kubelet", fp});
    ev.push_back({"Normal", "Started", "Started container " + cname, "kubelet", fp});
  }
  return ev;
}

json make_event(const json& object, const EventSpec& spec, const std::string& node) {
  const json& meta = object["metadata"];
  const std::string now = rfc3339_now();
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "%016llx",
                static_cast<unsigned long long>(std::hash<std::string>{}(random_uid())));
  json involved = {{"kind", object.value("kind", "")},
                   {"namespace", meta.value("namespace", "")},
                   {"name", meta.value("name", "")},
                   {"uid", meta.value("uid", "")},
                   {"apiVersion", object.value("apiVersion", "")}};
  if (meta.contains("resourceVersion")) involved["resourceVersion"] = meta["resourceVersion"];
  if (!spec.field_path.empty()) involved["fieldPath"] = spec.field_path;
  json source = {{"component", spec.component}};
  if (spec.component == "kubelet") source["host"] = node;
  return {{"kind", "Event"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", meta.value("name", "") + "." + suffix}, {"namespace", meta.value("namespace", "")}}},
          {"involvedObject", involved},
          {"reason", spec.reason},
          {"message", spec.message},
          {"source", source},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1},
          {"type", spec.type},
          {"eventTime", nullptr},
          {"reportingComponent", spec.component},
          {"reportingInstance", spec.component == "kubelet" ? node : ""}};
}

}  // namespace kjq::emulator
