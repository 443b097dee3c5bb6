#include "api_request.hpp"

#include "request_info.hpp"

namespace kjq::emulator {

using nlohmann::json;

long long parse_int_param(const httplib::Request& req, const char* key, long long fallback) {
  if (!req.has_param(key)) return fallback;
  std::string v = req.get_param_value(key);
  if (v.empty()) return fallback;
  try {
    std::size_t pos = 0;
    long long n = std::stoll(v, &pos);
    if (pos != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw bad_request(std::string("invalid value for ") + key + ": \"" + v + "\"");
  }
}

bool bool_param(const httplib::Request& req, const char* key) {
  if (!req.has_param(key)) return false;
  auto v = parse_go_bool(req.get_param_value(key));
  if (!v) throw bad_request(std::string("invalid value for ") + key + ": \"" + req.get_param_value(key) + "\"");
  return *v;
}

StatusCause forbidden_cause(const char* field, const std::string& why) {
  return {"FieldValueForbidden", "Forbidden: " + why, field};
}

json parse_body(const httplib::Request& req) {
  std::string ct = req.get_header_value("Content-Type");
  if (ct.find("protobuf") != std::string::npos || ct.find("yaml") != std::string::npos)
    throw ApiError(415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json");
  if (req.body.empty()) throw bad_request("the request body is empty");
  try {
    return json::parse(req.body);
  } catch (const json::parse_error& e) {
    throw bad_request(std::string("couldn't get version/kind; json parse error: ") + e.what());
  }
}

void disable_compression(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
}

std::function<bool(const StoredObject&)> make_filter(const LabelSelector& ls, const FieldSelector& fs) {
  if (ls.empty() && fs.empty()) return nullptr;
  const bool meta_only = fs.only_name_and_namespace();
  const auto involved = fs.required_value("involvedObject.name");
  return [ls, fs, meta_only, involved](const StoredObject& o) {
    if (!ls.matches(o.labels())) return false;
    if (fs.empty()) return true;
    if (involved && o.involved_object_name() != *involved) return false;
    if (meta_only) return fs.matches(json{{"metadata", {{"name", o.name()}, {"namespace", o.ns()}}}});
    return fs.may_match_text(o.text()) && fs.matches(o.parse());
  };
}

std::string meta_str(const json& o, const char* key) {
  if (!o.contains("metadata") || !o["metadata"].is_object()) return "";
  const json& m = o["metadata"];
  auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace kjq::emulator
