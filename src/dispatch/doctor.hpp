#pragma once
// `kjq doctor`: catch misconfiguration before the first job. Each check says what it found and,
// when it fails, how to fix it.
#include <string>
#include <vector>

#include "kube/config.hpp"
#include "kube/rest_client.hpp"
#include "queue/manifest_store.hpp"

namespace kjq::dispatch {

struct CheckResult {
  std::string name;
  bool ok = true;
  std::string detail;
  std::string fix;  // empty when ok
};

struct DoctorInput {
  kube::ConfigRequest config;
  kube::ClientOptions client;
  queue::ManifestStore store;
  std::string pod_name_prefix;
};

std::vector<CheckResult> run_doctor(const DoctorInput& input);

}  // namespace kjq::dispatch
