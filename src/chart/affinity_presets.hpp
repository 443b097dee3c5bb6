#pragma once
// The Bitnami common chart's affinity presets (common.affinities.pods / .nodes), which the
// reference uses for a Celery pod when its `affinity` is empty.
#include <nlohmann/json.hpp>

namespace kjq::chart {

// "soft": preferred (weight 1), "hard": required; both on kubernetes.io/hostname with
// `match_labels` as the label selector. Any other type: null (no preset).
nlohmann::json pod_affinity_preset(const nlohmann::json& type, const nlohmann::json& match_labels);

// "soft": preferred (weight 1) / "hard": required node selector term `key In values`.
// Any other type: null.
nlohmann::json node_affinity_preset(const nlohmann::json& type, const nlohmann::json& key,
                                    const nlohmann::json& values);

// {podAffinity, podAntiAffinity, nodeAffinity} from settings.podAffinityPreset,
// .podAntiAffinityPreset and .nodeAffinityPreset.{type,key,values}; null members are left out,
// so the result is {} when no preset applies.
nlohmann::json affinity_from_presets(const nlohmann::json& settings, const nlohmann::json& match_labels);

}  // namespace kjq::chart
