#pragma once
// What the API server does to a batch/v1 Job before storing it: decoding checks (400), defaulting
// (selector, controller labels, pod-template defaults) and validation (422 with causes).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api_status.hpp"

namespace kjq::emulator {

// Checks the JSON types of the fields the emulator reads; throws ApiError(400) like the decoder.
void check_job_types(const nlohmann::json& job);
// Field errors of a defaulted Job (empty when valid).
std::vector<StatusCause> validate_job(const nlohmann::json& job);
// The decoder's defaults, applied to every Job the API server reads (create and update):
// metadata.labels from the template's, counts, completionMode, suspend, podReplacementPolicy,
// pod-template and container defaults.
void default_job_fields(nlohmann::json& job);
// Create defaults: default_job_fields, then the generated selector and controller labels,
// generation 1 and an empty status. metadata.uid must already be set (the selector uses it).
void default_job(nlohmann::json& job);
// Check, default and validate a Job for creation in `ns`; throws ApiError on failure.
void admit_job_create(nlohmann::json& job);
// Field errors of an update from `old` to `job` (both defaulted): spec.completions, selector,
// completionMode, podFailurePolicy, backoffLimitPerIndex, managedBy and successPolicy are
// immutable, and so is spec.template, except that while `old` is suspended and has never started
// (no status.startTime) its labels, annotations, nodeSelector, tolerations, node affinity and
// schedulingGates may change. Values are rendered as JSON (kube-apiserver prints Go values).
std::vector<StatusCause> validate_job_update(const nlohmann::json& job, const nlohmann::json& old);
// The API server's update of the stored Job `current` to `job` (a PUT body, or a patch applied
// to `current`): decoding checks (400), the decoder's defaults, the metadata a client cannot
// change (creationTimestamp, deletion marks, generation; a different metadata.uid is a 422),
// status kept (it belongs to jobs/status), validation and immutability (422), and generation + 1
// when the spec changed. kind and apiVersion stay the stored ones.
void admit_job_update(nlohmann::json& job, const nlohmann::json& current);

// Validation of metadata.name (RFC 1123 subdomain); "" when valid.
std::string validate_dns_subdomain(const std::string& name);

}  // namespace kjq::emulator
