#include "postrender/pod_template_wiring.hpp"

#include <algorithm>
#include <set>

#include "postrender/manifest_stream.hpp"
#include "postrender/manifests_configmap.hpp"
#include "util/diagnostic.hpp"

namespace kjq::postrender {

using nlohmann::json;

namespace {

constexpr std::string_view kManifestFile = "/manifest.json";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool names_manifests_configmap(const json& volume, const std::string& configmap_name) {
  if (!volume.is_object()) return false;
  auto cm = volume.find("configMap");
  if (cm == volume.end() || !cm->is_object()) return false;
  auto name = cm->find("name");
  if (name == cm->end() || !name->is_string()) return false;
  const auto& text = name->get_ref<const std::string&>();
  if (!configmap_name.empty()) return text == configmap_name;
  return text.size() > std::string_view(kManifestsConfigMapSuffix).size() && ends_with(text, kManifestsConfigMapSuffix);
}

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json* child(json& parent, const char* key) {
  if (!parent.is_object()) return nullptr;
  auto it = parent.find(key);
  return it == parent.end() ? nullptr : &*it;
}

// Keeps the first element `matches` at its place, replaced by `replacement` (or dropped when it
// is null), and removes the others. True when one matched.
template <typename Match>
bool replace_first_remove_rest(json& list, const Match& matches, const json& replacement) {
  if (!list.is_array()) return false;
  json kept = json::array();
  bool found = false;
  for (auto& item : list) {
    if (!matches(item)) {
      kept.push_back(std::move(item));
    } else if (!found) {
      found = true;
      if (!replacement.is_null()) kept.push_back(replacement);
    }
  }
  list = std::move(kept);
  return found;
}

void set_env(json& container, const json& wanted) {
  if (wanted.empty()) return;
  json& env = container["env"];
  if (!env.is_array()) env = json::array();
  for (const auto& entry : wanted) {
    auto same = std::find_if(env.begin(), env.end(),
                             [&](const json& e) { return e.is_object() && e.value("name", json()) == entry["name"]; });
    if (same != env.end()) {
      *same = entry;
    } else {
      env.push_back(entry);
    }
  }
}

}  // namespace

json* pod_template(json& object) {
  const std::string kind = string_field(object, "kind");
  if (kind == "Pod") return &object;
  json* spec = child(object, "spec");
  if (!spec) return nullptr;
  if (kind == "CronJob") {
    json* job_template = child(*spec, "jobTemplate");
    spec = job_template ? child(*job_template, "spec") : nullptr;
    if (!spec) return nullptr;
  } else if (kind != "Deployment" && kind != "StatefulSet" && kind != "DaemonSet" && kind != "ReplicaSet" &&
             kind != "Job" && kind != "ReplicationController") {
    return nullptr;
  }
  json* tpl = child(*spec, "template");
  return tpl && tpl->is_object() ? tpl : nullptr;
}

const json* pod_template(const json& object) { return pod_template(const_cast<json&>(object)); }

std::vector<std::string> manifests_volume_names(const json& pod_spec, const std::string& configmap_name) {
  std::vector<std::string> names;
  if (!pod_spec.is_object()) return names;
  auto volumes = pod_spec.find("volumes");
  if (volumes == pod_spec.end() || !volumes->is_array()) return names;
  for (const auto& volume : *volumes) {
    if (names_manifests_configmap(volume, configmap_name)) names.push_back(string_field(volume, "name"));
  }
  return names;
}

std::optional<std::string> manifests_mount_directory(const json& tpl, const std::string& configmap_name) {
  const json& spec = tpl.is_object() && tpl.contains("spec") ? tpl["spec"] : json();
  const auto names = manifests_volume_names(spec, configmap_name);
  if (names.empty()) return std::nullopt;
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (const auto& container : spec[list]) {
      if (!container.is_object() || !container.contains("volumeMounts") || !container["volumeMounts"].is_array())
        continue;
      for (const auto& mount : container["volumeMounts"]) {
        if (std::find(names.begin(), names.end(), string_field(mount, "name")) == names.end()) continue;
        std::string path = string_field(mount, "mountPath");
        const std::string sub_path = string_field(mount, "subPath");
        if (!sub_path.empty()) {
          const std::string tail = "/" + sub_path + std::string(kManifestFile);
          if (!ends_with(path, tail)) continue;
          path.resize(path.size() - tail.size());
        }
        while (path.size() > 1 && path.back() == '/') path.pop_back();
        if (!path.empty() && path.front() == '/') return path;
      }
    }
  }
  return std::nullopt;
}

bool rewire_pod_template(json& tpl, const std::string& configmap_name, const chart::ManifestsWiring& wiring,
                         const std::string& label) {
  json* spec = child(tpl, "spec");
  if (!spec || !spec->is_object()) return false;
  const auto names = manifests_volume_names(*spec, configmap_name);
  if (names.empty()) return false;
  const std::set<std::string> old_names(names.begin(), names.end());
  const bool enabled = wiring.enabled();

  json& volumes = (*spec)["volumes"];
  if (enabled) {
    for (const auto& volume : volumes) {
      if (string_field(volume, "name") == chart::kManifestsVolumeName &&
          !names_manifests_configmap(volume, configmap_name)) {
        throw InputError(Diagnostic{kStdinName, 0, 0, "spec.template.spec.volumes",
                                    label + ": a volume named \"" + chart::kManifestsVolumeName +
                                        "\" that is not the job manifests: kjq needs that name for the manifests' "
                                        "directory mount"});
      }
    }
  }
  replace_first_remove_rest(
      volumes, [&](const json& v) { return names_manifests_configmap(v, configmap_name); },
      enabled ? wiring.volume : json());

  for (const char* list : {"initContainers", "containers"}) {
    json* containers = child(*spec, list);
    if (!containers || !containers->is_array()) continue;
    for (auto& container : *containers) {
      json* mounts = child(container, "volumeMounts");
      if (!mounts) continue;
      const bool mounted = replace_first_remove_rest(
          *mounts, [&](const json& m) { return old_names.count(string_field(m, "name")) > 0; },
          enabled ? wiring.volume_mount : json());
      if (mounted && enabled) set_env(container, wiring.env);
    }
  }

  json& metadata = tpl["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  if (enabled) {
    (*spec)["automountServiceAccountToken"] = true;
    if (!wiring.checksum.empty()) {
      json& annotations = metadata["annotations"];
      if (!annotations.is_object()) annotations = json::object();
      annotations[chart::kManifestsChecksumAnnotation] = wiring.checksum;
      return true;
    }
  }
  if (json* annotations = child(metadata, "annotations"); annotations && annotations->is_object()) {
    annotations->erase(chart::kManifestsChecksumAnnotation);
  }
  return true;
}

}  // namespace kjq::postrender
