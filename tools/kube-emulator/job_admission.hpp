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
// Apply API-server defaults. metadata.uid must already be set (the selector uses it).
void default_job(nlohmann::json& job);
// Check, default and validate a Job for creation in `ns`; throws ApiError on failure.
void admit_job_create(nlohmann::json& job);

// Validation of metadata.name (RFC 1123 subdomain); "" when valid.
std::string validate_dns_subdomain(const std::string& name);

}  // namespace kjq::emulator
