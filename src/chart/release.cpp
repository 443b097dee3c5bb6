#include "chart/release.hpp"

#include <algorithm>

namespace kjq::chart {

namespace {
bool is_dns1123_label(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  return std::all_of(s.begin(), s.end(), ok) && s.front() != '-' && s.back() != '-';
}
}  // namespace

std::string release_name_problem(const std::string& name) {
  if (is_dns1123_label(name, 53)) return {};
  return "invalid release name \"" + name +
         "\": use 1 to 53 lowercase letters, digits and hyphens, starting and ending with a "
         "letter or digit";
}

std::string namespace_problem(const std::string& ns) {
  if (is_dns1123_label(ns, 63)) return {};
  return "invalid namespace \"" + ns +
         "\": use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a "
         "letter or digit";
}

}  // namespace kjq::chart
