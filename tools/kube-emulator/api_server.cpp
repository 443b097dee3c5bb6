#include "api_server.hpp"

#include <cstdio>
#include <vector>

#include "api_request.hpp"
#include "api_status.hpp"
#include "protobuf_decode.hpp"
#include "selectors.hpp"
#include "table_convertor.hpp"
#include "util/base64.hpp"

// Routing, discovery, and the read verbs (get, list). Watch streams are in api_watch.cpp, the
// write verbs in api_writes.cpp, pods/log and SelfSubjectAccessReview in api_logs_and_reviews.cpp.

namespace kjq::emulator {

using nlohmann::json;

namespace {

std::string b64url_encode(const std::string& in) { return base64_encode(in, Base64::UrlUnpadded); }

std::string b64url_decode(const std::string& in) {
  auto out = base64_decode(in, Base64::UrlUnpadded);
  if (!out) throw bad_request("continue key is not valid: illegal base64 data");
  return *out;
}

// The list half of kube-apiserver's ListOptions validation (a watch has its own rules).
void validate_list_options(const httplib::Request& req) {
  std::vector<StatusCause> causes;
  const std::string match = req.get_param_value("resourceVersionMatch");
  const std::string rv = req.get_param_value("resourceVersion");
  if (!match.empty()) {
    if (rv.empty())
      causes.push_back(forbidden_cause("resourceVersionMatch",
                                       "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    if (!req.get_param_value("continue").empty())
      causes.push_back(
          forbidden_cause("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
    if (match != "Exact" && match != "NotOlderThan")
      causes.push_back({"FieldValueNotSupported",
                        "Unsupported value: \"" + match + "\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
                        "resourceVersionMatch"});
    if (match == "Exact" && rv == "0")
      causes.push_back(forbidden_cause("resourceVersionMatch",
                                       "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
  }
  if (req.has_param("sendInitialEvents")) {
    bool_param(req, "sendInitialEvents");  // a malformed value is a 400 first
    causes.push_back(forbidden_cause("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  }
  if (!causes.empty()) throw invalid("ListOptions", "meta.k8s.io", "", causes);
}

}  // namespace

void write_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void write_status_error(httplib::Response& res, const ApiError& e) {
  if (e.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(e.retry_after_seconds));
  write_json(res, e.code(), e.status());
}

ApiServer::ApiServer(const ResourceRegistry& registry, ObjectStore& store, JobController& controller,
                     const TokenAuthenticator& authn, const RbacAuthorizer& authz, FaultInjector& faults,
                     ApiServerOptions options)
    : registry_(registry),
      store_(store),
      controller_(controller),
      authn_(authn),
      authz_(authz),
      faults_(faults),
      options_(options) {}

void ApiServer::install(httplib::Server& server) {
  auto h = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
  server.Get(".*", h);
  server.Post(".*", h);
  server.Put(".*", h);
  server.Patch(".*", h);
  server.Delete(".*", h);
}

void ApiServer::close_streams() {
  closing_ = true;
  store_.wake_all();
}

namespace {
// kube-apiserver compresses only large answers, and only with gzip. httplib would otherwise
// brotli- or gzip-encode every answer the client accepts, which costs far more than the request.
void limit_compression(const httplib::Request& req, const httplib::Response& res) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  auto it = headers.find("Accept-Encoding");
  if (it == headers.end()) return;
  const bool gzip_ok = it->second.find("gzip") != std::string::npos;
  headers.erase("Accept-Encoding");
  if (gzip_ok && res.body.size() >= 128 * 1024) headers.emplace("Accept-Encoding", "gzip");
}
}  // namespace

void ApiServer::handle(const httplib::Request& req, httplib::Response& res) {
  struct CompressionGuard {
    const httplib::Request& req;
    const httplib::Response& res;
    ~CompressionGuard() { limit_compression(req, res); }
  } guard{req, res};
  try {
    if (options_.verbose) std::fprintf(stderr, "kube-emulator: %s %s\n", req.method.c_str(), req.target.c_str());
    const std::string& path = req.path;
    const bool public_path = path == "/version" || path == "/healthz" || path == "/livez" || path == "/readyz";
    if (!public_path) faults_.before_request();
    Watch watch = Watch::NotRequested;
    if (req.has_param("watch")) {
      auto w = parse_go_bool(req.get_param_value("watch"));
      if (!w) throw bad_request("invalid value for watch: \"" + req.get_param_value("watch") + "\"");
      if (*w) watch = Watch::Requested;
    }
    RequestInfo info = parse_request_info(req.method, path, watch);
    auto user = authn_.authenticate(req.get_header_value("Authorization"));
    if (!user) {
      if (!public_path) throw unauthorized();
      user = UserInfo{"system:anonymous", "", {"system:unauthenticated"}};
    }
    if (!info.resource_request) {
      serve_discovery(info, req, res);
      return;
    }
    serve_resource(info, *user, req, res);
  } catch (const ApiError& e) {
    write_status_error(res, e);
  } catch (const json::exception& e) {
    write_status_error(res, bad_request(e.what()));
  } catch (const std::exception& e) {
    write_status_error(res, ApiError(500, "InternalError", std::string("Internal error occurred: ") + e.what()));
  }
}

void ApiServer::serve_discovery(const RequestInfo& info, const httplib::Request& req, httplib::Response& res) {
  const std::string& p = info.path;
  if (req.method != "GET")
    throw method_not_supported("the server does not allow this method on the requested resource");
  if (p == "/healthz" || p == "/livez" || p == "/readyz") {
    res.set_content("ok", "text/plain; charset=utf-8");
    return;
  }
  if (p == "/version") return write_json(res, 200, registry_.version_doc());
  if (p == "/api" || p == "/api/" || p == "/apis" || p == "/apis/") {
    // The answer depends on Accept: aggregated discovery when asked for, else the legacy document.
    const bool core = p.rfind("/apis", 0) != 0;
    res.set_header("Vary", "Accept");
    const std::string version = aggregated_discovery_version(req.get_header_value("Accept"));
    if (!version.empty()) {
      res.status = 200;
      res.set_content(registry_.aggregated_discovery_doc(core, version).dump(),
                      aggregated_discovery_content_type(version));
      return;
    }
    return write_json(res, 200, core ? registry_.core_versions_doc() : registry_.group_list_doc());
  }
  if (p == "/openapi/v3" || p == "/openapi/v3/") return write_json(res, 200, registry_.openapi_v3_root());
  const std::string v3 = "/openapi/v3/";
  if (p.rfind(v3, 0) == 0) {
    RequestInfo gv = parse_request_info("GET", p.substr(v3.size() - 1), Watch::NotRequested);
    json doc = registry_.openapi_v3_group_version(gv.group, gv.version);
    if (!doc.is_null()) return write_json(res, 200, doc);
  }
  if (!info.version.empty()) {
    json doc = registry_.resource_list_doc(info.group, info.version);
    if (!doc.is_null()) return write_json(res, 200, doc);
  } else if (p.rfind("/apis/", 0) == 0) {
    std::string group = p.substr(6);
    if (!group.empty() && group.back() == '/') group.pop_back();
    for (const auto& g : registry_.group_list_doc()["groups"])
      if (g["name"] == group) {
        json doc = g;
        doc["kind"] = "APIGroup";
        doc["apiVersion"] = "v1";
        return write_json(res, 200, doc);
      }
  }
  throw ApiError(404, "NotFound", "the server could not find the requested resource", json::object());
}

void ApiServer::serve_resource(const RequestInfo& info, const UserInfo& user, const httplib::Request& req,
                               httplib::Response& res) {
  const ResourceType* t = registry_.find(info.group, info.version, info.resource);
  auto page_not_found = [] {
    return ApiError(404, "NotFound", "the server could not find the requested resource", json::object());
  };
  if (!t) throw page_not_found();
  if (!t->namespaced && !info.ns.empty()) throw page_not_found();
  const bool collection_verb = info.verb == "list" || info.verb == "watch" || info.verb == "deletecollection";
  if (t->namespaced && info.ns.empty() && !collection_verb) throw page_not_found();
  if (!info.subresource.empty() && !(t->resource == "pods" && info.subresource == "log")) throw page_not_found();
  const bool verb_ok = !info.subresource.empty()
                           ? info.verb == "get"
                           : std::find(t->verbs.begin(), t->verbs.end(), info.verb) != t->verbs.end();
  if (!verb_ok) throw method_not_supported("the server does not allow this method on the requested resource");

  if (t->resource == "selfsubjectaccessreviews") {
    // Every authenticated user may ask about itself (system:basic-user).
    if (req.get_header_value("Content-Type").find("protobuf") != std::string::npos)
      return do_self_subject_access_review(user, decode_protobuf_self_subject_access_review(req.body), res);
    return do_self_subject_access_review(user, parse_body(req), res);
  }
  RequestAttributes attrs{user,          info.verb,        true,      info.ns,  info.group,
                          info.resource, info.subresource, info.name, info.path};
  if (!authz_.authorize(attrs).allowed) throw forbidden(attrs);

  if (!info.subresource.empty()) return do_pod_log(info, req, res);
  if (info.verb == "list") return do_list(*t, info, req, res);
  if (info.verb == "watch") return do_watch(*t, info, req, res);
  if (info.verb == "get") {
    const std::string table_version = t->stored ? table_version_for_accept(req.get_header_value("Accept")) : "";
    const TableOptions table = make_table_options(table_version, req.get_param_value("includeObject"));
    ObjectPtr obj = store_.get(*t, info.ns, info.name);
    if (!obj) throw not_found(t->resource, t->group, info.name);
    res.status = 200;
    if (!table_version.empty()) {
      res.set_content(make_table(*t, {obj->parse()}, json{{"resourceVersion", obj->resource_version()}}, table).dump(),
                      table_content_type(table_version));
      return;
    }
    res.set_content(obj->text(), "application/json");
    return;
  }
  if (info.verb == "create") return do_create(*t, info, user, req, res);
  if (info.verb == "update") return do_update(*t, info, req, res);
  if (info.verb == "patch") return do_patch(*t, info, req, res);
  if (info.verb == "delete") return do_delete(*t, info, req, res);
  if (info.verb == "deletecollection") return do_delete_collection(*t, info, req, res);
  throw method_not_supported("the server does not allow this method on the requested resource");
}

void ApiServer::do_list(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                        httplib::Response& res) {
  validate_list_options(req);
  const std::string table_version = table_version_for_accept(req.get_header_value("Accept"));
  const TableOptions table = make_table_options(table_version, req.get_param_value("includeObject"));
  auto ls = LabelSelector::parse(req.get_param_value("labelSelector"));
  auto fs = FieldSelector::parse(req.get_param_value("fieldSelector"));
  long long limit = parse_int_param(req, "limit", 0);
  if (limit < 0) limit = 0;
  std::string after_key;
  uint64_t snapshot_rv = 0;
  if (std::string token = req.get_param_value("continue"); !token.empty()) {
    json tok;
    try {
      tok = json::parse(b64url_decode(token));
      snapshot_rv = tok.at("rv").get<uint64_t>();
      after_key = tok.at("start").get<std::string>();
    } catch (const json::exception&) {
      throw bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    }
    if (store_.events_after(t, snapshot_rv).expired)
      throw expired(
          "The provided continue parameter is too old to display a consistent list result. You can start "
          "a new list without the continue parameter, or use the continue token in this response to "
          "retrieve the remainder of the results. Continuing with the provided token results in an "
          "inconsistent list - objects that were created, modified, or deleted between the time the "
          "first chunk was returned and now may show up in the list.");
  }
  auto result = store_.list(t, info.ns, make_filter(ls, fs), after_key, static_cast<std::size_t>(limit));
  if (snapshot_rv == 0) snapshot_rv = result.rv;
  if (!table_version.empty()) {
    json list_meta = {{"resourceVersion", std::to_string(snapshot_rv)}};
    if (result.remaining > 0) {
      list_meta["continue"] = b64url_encode(json{{"rv", snapshot_rv}, {"start", result.last_key}}.dump());
      list_meta["remainingItemCount"] = result.remaining;
    }
    std::vector<json> objects;
    objects.reserve(result.items.size());
    for (const auto& item : result.items) objects.push_back(item->parse());
    res.status = 200;
    res.set_content(make_table(t, objects, list_meta, table).dump(), table_content_type(table_version));
    return;
  }
  std::string body;
  body.reserve(256 + result.items.size() * 2048);
  body += "{\"kind\":\"" + t.kind + "List\",\"apiVersion\":\"" + t.api_version() + "\",\"metadata\":{";
  body += "\"resourceVersion\":\"" + std::to_string(snapshot_rv) + "\"";
  if (result.remaining > 0) {
    json tok = {{"rv", snapshot_rv}, {"start", result.last_key}};
    body += ",\"continue\":\"" + b64url_encode(tok.dump()) + "\"";
    body += ",\"remainingItemCount\":" + std::to_string(result.remaining);
  }
  body += "},\"items\":[";
  bool first = true;
  for (const auto& item : result.items) {
    if (!first) body += ',';
    first = false;
    body += item->text();
  }
  body += "]}";
  res.status = 200;
  res.set_content(body, "application/json");
}

}  // namespace kjq::emulator
