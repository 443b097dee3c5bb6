#pragma once
// What Helm calls .Release and .Chart: the identity a render is made for.
#include <string>

namespace kjq::chart {

struct Release {
  std::string name = "nautobot";
  std::string namespace_ = "default";
  std::string chart_version = "3.1.1";  // the reference chart kjq reproduces
  std::string app_version = "3.0";
  std::string managed_by = "kjq";  // "Helm" reproduces the chart's labels exactly
};

// Empty when valid; otherwise why not (Helm's rule: DNS-1123 label, at most 53 characters).
std::string release_name_problem(const std::string& name);
std::string namespace_problem(const std::string& ns);

}  // namespace kjq::chart
