#pragma once
// Which workers are Kubernetes job queues, and the merged settings (W) of one queue.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::values {

// `type` when truthy, else "celery" (chart-behaviour.md §2.1).
std::string worker_type(const nlohmann::json& worker);

// Enabled workers whose type is exactly "kubernetes", in byte-wise sorted order.
std::vector<std::string> kubernetes_queue_names(const nlohmann::json& values);

// Enabled workers whose type is "celery" (or unset), in sorted order.
std::vector<std::string> celery_worker_names(const nlohmann::json& values);

// W: a fresh copy of kubernetesJobs with workers.<queue> merged over it (mergeOverwrite).
nlohmann::json queue_settings(const nlohmann::json& values, std::string_view queue);

// Keys a kubernetesJobs map or a kubernetes worker may hold (reference schema + kjq extensions).
const std::vector<std::string>& kubernetes_worker_keys();

}  // namespace kjq::values
