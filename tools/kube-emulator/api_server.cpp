#include "api_server.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <sstream>

#include "api_status.hpp"
#include "job_admission.hpp"
#include "protobuf_decode.hpp"
#include "selectors.hpp"
#include "sim_clock.hpp"
#include "table_convertor.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(const std::string& in) {
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(kB64[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(kB64[((val << 8) >> (bits + 8)) & 0x3F]);
  return out;
}

std::string b64url_decode(const std::string& in) {
  int table[256];
  std::fill(std::begin(table), std::end(table), -1);
  for (int i = 0; i < 64; i++) table[static_cast<unsigned char>(kB64[i])] = i;
  table[static_cast<unsigned char>('+')] = 62;
  table[static_cast<unsigned char>('/')] = 63;
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    if (c == '=') break;
    if (table[c] == -1) throw bad_request("continue key is not valid: illegal base64 data");
    val = (val << 6) + table[c];
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

uint64_t parse_rv(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19)
    throw bad_request("invalid resource version: \"" + text + "\"");
  return std::stoull(text);
}

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

// The list half of kube-apiserver's ListOptions validation (a watch has its own rules).
void validate_list_options(const httplib::Request& req) {
  std::vector<StatusCause> causes;
  const std::string match = req.get_param_value("resourceVersionMatch");
  const std::string rv = req.get_param_value("resourceVersion");
  if (!match.empty()) {
    if (rv.empty())
      causes.push_back(forbidden_cause("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    if (!req.get_param_value("continue").empty())
      causes.push_back(forbidden_cause("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
    if (match != "Exact" && match != "NotOlderThan")
      causes.push_back({"FieldValueNotSupported",
                        "Unsupported value: \"" + match + "\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
                        "resourceVersionMatch"});
    if (match == "Exact" && rv == "0")
      causes.push_back(forbidden_cause("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
  }
  if (req.has_param("sendInitialEvents")) {
    bool_param(req, "sendInitialEvents");  // a malformed value is a 400 first
    causes.push_back(forbidden_cause("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  }
  if (!causes.empty()) throw invalid("ListOptions", "meta.k8s.io", "", causes);
}

// A watch's streaming-list options after kube-apiserver's defaulting (WatchList on: a watch from
// "" or "0" that names neither is a streaming list), validated as it does.
struct WatchListOptions {
  std::optional<bool> send_initial_events;
  std::string match;
};
WatchListOptions watch_list_options(const httplib::Request& req) {
  WatchListOptions o;
  if (req.has_param("sendInitialEvents")) o.send_initial_events = bool_param(req, "sendInitialEvents");
  o.match = req.get_param_value("resourceVersionMatch");
  const std::string rv = req.get_param_value("resourceVersion");
  if (!o.send_initial_events && o.match.empty() && (rv.empty() || rv == "0")) {
    o.send_initial_events = true;
    o.match = "NotOlderThan";
  }
  std::vector<StatusCause> causes;
  if (o.send_initial_events && o.match != "NotOlderThan")
    causes.push_back(forbidden_cause("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
  if (!o.match.empty()) {
    if (!o.send_initial_events)
      causes.push_back(forbidden_cause("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
    if (o.match != "NotOlderThan")
      causes.push_back({"FieldValueNotSupported", "Unsupported value: \"" + o.match + "\": supported values: \"NotOlderThan\"",
                        "resourceVersionMatch"});
    if (!req.get_param_value("continue").empty())
      causes.push_back(forbidden_cause("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
  }
  if (!causes.empty()) throw invalid("ListOptions", "meta.k8s.io", "", causes);
  return o;
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

void append_event_line(std::string& out, const char* type, const std::string& object_text) {
  out += "{\"type\":\"";
  out += type;
  out += "\",\"object\":";
  out += object_text;
  out += "}\n";
}

// Streams must not be gzip-buffered by httplib: drop the client's Accept-Encoding for them.
void disable_compression(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
}

std::function<bool(const StoredObject&)> make_filter(const LabelSelector& ls, const FieldSelector& fs) {
  if (ls.empty() && fs.empty()) return nullptr;
  const bool meta_only = fs.only_name_and_namespace();
  return [ls, fs, meta_only](const StoredObject& o) {
    if (!ls.matches(o.labels())) return false;
    if (fs.empty()) return true;
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
    : registry_(registry), store_(store), controller_(controller), authn_(authn), authz_(authz), faults_(faults),
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
    bool watch = false;
    if (req.has_param("watch")) {
      auto w = parse_go_bool(req.get_param_value("watch"));
      if (!w) throw bad_request("invalid value for watch: \"" + req.get_param_value("watch") + "\"");
      watch = *w;
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
  if (req.method != "GET") throw method_not_supported("the server does not allow this method on the requested resource");
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
    RequestInfo gv = parse_request_info("GET", p.substr(v3.size() - 1), false);
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
  RequestAttributes attrs{user, info.verb, true, info.ns, info.group, info.resource, info.subresource, info.name, info.path};
  if (!authz_.authorize(attrs).allowed) throw forbidden(attrs);

  if (!info.subresource.empty()) return do_pod_log(info, req, res);
  if (info.verb == "list") return do_list(*t, info, req, res);
  if (info.verb == "watch") return do_watch(*t, info, req, res);
  if (info.verb == "get") {
    const std::string table_version = t->stored ? table_version_for_accept(req.get_header_value("Accept")) : "";
    const TableOptions table = make_table_options(table_version.empty() ? "v1" : table_version,
                                                  req.get_param_value("includeObject"));
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
  const TableOptions table = make_table_options(table_version.empty() ? "v1" : table_version,
                                                req.get_param_value("includeObject"));
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
      throw expired("The provided continue parameter is too old to display a consistent list result. You can start "
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

namespace {
struct WatchStream {
  std::deque<std::string> pending;
  uint64_t last_rv = 0;
  bool close_after_pending = false;
  int events_sent = 0;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point next_bookmark;
};
}  // namespace

void ApiServer::do_watch(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                         httplib::Response& res) {
  const std::string rv_param = req.get_param_value("resourceVersion");
  const WatchListOptions watch_list = watch_list_options(req);
  const bool bookmarks = bool_param(req, "allowWatchBookmarks");
  const std::string table_version = table_version_for_accept(req.get_header_value("Accept"));
  auto table = std::make_shared<TableOptions>(
      make_table_options(table_version.empty() ? "v1" : table_version, req.get_param_value("includeObject")));
  long long timeout = parse_int_param(req, "timeoutSeconds", 0);
  if (timeout <= 0 || timeout > options_.watch_timeout_seconds) timeout = options_.watch_timeout_seconds;
  auto ls = LabelSelector::parse(req.get_param_value("labelSelector"));
  auto fs = FieldSelector::parse(req.get_param_value("fieldSelector"));
  auto filter = make_filter(ls, fs);
  const int drop_after = faults_.config().watch_drop_after_events;
  const ResourceType* type = &t;

  // One event line; objects become one-row Tables when the client asked for Tables (column
  // definitions only in the first, as kube-apiserver does).
  auto event_line = [type, table, as_table = !table_version.empty()](const char* event_type, const StoredObject& obj) {
    std::string line;
    if (!as_table) {
      append_event_line(line, event_type, obj.text());
      return line;
    }
    append_event_line(line, event_type,
                      make_table(*type, {obj.parse()}, json{{"resourceVersion", obj.resource_version()}}, *table).dump());
    table->no_headers = true;
    return line;
  };

  auto st = std::make_shared<WatchStream>();
  const auto now = std::chrono::steady_clock::now();
  st->deadline = now + std::chrono::seconds(timeout);
  const auto bookmark_every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.bookmark_interval_seconds));
  st->next_bookmark = now + bookmark_every;
  if (watch_list.send_initial_events.value_or(false)) {
    // A streaming list: the state at least as new as resourceVersion as ADDED events, then (with
    // allowWatchBookmarks) a BOOKMARK marked k8s.io/initial-events-end at that state's version.
    if (!rv_param.empty() && rv_param != "0") {
      const uint64_t min_rv = parse_rv(rv_param);
      const auto give_up = now + std::chrono::seconds(3);  // the watch cache's wait for freshness
      while (store_.current_rv() < min_rv && std::chrono::steady_clock::now() < give_up)
        store_.wait_for_change(store_.current_rv(), give_up);
      if (store_.current_rv() < min_rv) {
        ApiError e(504, "Timeout",
                   "Timeout: Too large resource version: " + rv_param + ", current: " + std::to_string(store_.current_rv()),
                   json{{"causes", json::array({{{"reason", "ResourceVersionTooLarge"},
                                                 {"message", "Too large resource version"}}})},
                        {"retryAfterSeconds", 1}});
        e.retry_after_seconds = 1;
        throw e;
      }
    }
    auto snapshot = store_.list(t, info.ns, filter);
    for (const auto& item : snapshot.items) st->pending.push_back(event_line("ADDED", *item));
    st->last_rv = snapshot.rv;
    if (bookmarks) {
      json bm = {{"kind", t.kind}, {"apiVersion", t.api_version()},
                 {"metadata", {{"resourceVersion", std::to_string(snapshot.rv)},
                               {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
      std::string line;
      append_event_line(line, "BOOKMARK", bm.dump());
      st->pending.push_back(std::move(line));
    }
  } else if (rv_param.empty() || rv_param == "0") {
    st->last_rv = store_.current_rv();  // sendInitialEvents=false: only changes from now on
  } else {
    uint64_t rv = parse_rv(rv_param);
    auto h = store_.events_after(t, rv);
    if (h.expired) {
      std::string line;
      append_event_line(line, "ERROR",
                        expired("too old resource version: " + rv_param + " (" + std::to_string(h.oldest_rv + 1) + ")")
                            .status()
                            .dump());
      st->pending.push_back(std::move(line));
      st->close_after_pending = true;
    }
    st->last_rv = rv;
  }

  disable_compression(req);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache, private");
  const std::string ns = info.ns;
  res.set_chunked_content_provider(
      table_version.empty() ? "application/json" : table_content_type(table_version),
      [this, st, type, ns, filter, bookmarks, bookmark_every, drop_after, event_line](std::size_t,
                                                                                       httplib::DataSink& sink) {
        while (!st->pending.empty()) {
          const std::string& line = st->pending.front();
          if (!sink.write(line.data(), line.size())) return false;
          st->pending.pop_front();
          st->events_sent++;
          if (drop_after > 0 && st->events_sent >= drop_after) {
            sink.done();
            return true;
          }
        }
        if (st->close_after_pending || closing_) {
          sink.done();
          return true;
        }
        auto now = std::chrono::steady_clock::now();
        if (now >= st->deadline) {
          sink.done();
          return true;
        }
        if (!sink.is_writable()) return false;
        auto h = store_.events_after(*type, st->last_rv);
        if (h.expired) {
          std::string line;
          append_event_line(line, "ERROR",
                            expired("too old resource version: " + std::to_string(st->last_rv) + " (" +
                                    std::to_string(h.oldest_rv + 1) + ")")
                                .status()
                                .dump());
          st->pending.push_back(std::move(line));
          st->close_after_pending = true;
          return true;
        }
        for (const auto& e : h.events) {
          const StoredObject& obj = *e.object;
          if (!ns.empty() && obj.ns() != ns) continue;
          bool now_match = !filter || filter(obj);
          bool was_match = e.previous && (!filter || filter(*e.previous));
          const char* type_name = nullptr;
          if (e.type == "ADDED") type_name = now_match ? "ADDED" : nullptr;
          else if (e.type == "DELETED") type_name = (was_match || (!e.previous && now_match)) ? "DELETED" : nullptr;
          else if (now_match && was_match) type_name = "MODIFIED";
          else if (now_match) type_name = "ADDED";
          else if (was_match) type_name = "DELETED";
          if (!type_name) continue;
          st->pending.push_back(event_line(type_name, obj));
        }
        st->last_rv = std::max(st->last_rv, h.rv);
        if (!st->pending.empty()) return true;
        if (bookmarks && now >= st->next_bookmark) {
          json bm = {{"kind", type->kind}, {"apiVersion", type->api_version()},
                     {"metadata", {{"resourceVersion", std::to_string(st->last_rv)}}}};
          std::string line;
          append_event_line(line, "BOOKMARK", bm.dump());
          if (!sink.write(line.data(), line.size())) return false;
          st->next_bookmark = now + bookmark_every;
        }
        auto wake = std::min(st->deadline, now + std::chrono::milliseconds(500));
        if (bookmarks) wake = std::min(wake, st->next_bookmark);
        store_.wait_for_change(st->last_rv, wake);
        return true;
      });
}

void ApiServer::do_create(const ResourceType& t, const RequestInfo& info, const UserInfo& user,
                          const httplib::Request& req, httplib::Response& res) {
  (void)user;
  json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the request body must be a JSON object");
  if (!body.contains("metadata") || !body["metadata"].is_object()) body["metadata"] = json::object();
  json& meta = body["metadata"];
  if (body.contains("kind") && body["kind"] != t.kind && t.resource != "jobs")
    throw bad_request("the object provided is unrecognized (must be of type " + t.kind + "): kind " + body["kind"].dump());
  if (t.namespaced) {
    if (meta.contains("namespace") && meta["namespace"].is_string() && !meta["namespace"].get<std::string>().empty() &&
        meta["namespace"] != info.ns)
      throw bad_request("the namespace of the provided object does not match the namespace sent on the request");
    meta["namespace"] = info.ns;
  } else {
    meta.erase("namespace");
  }
  if (meta.contains("resourceVersion") && !meta["resourceVersion"].is_null() && meta["resourceVersion"] != "")
    throw bad_request("resourceVersion should not be set on objects to be created");
  if ((!meta.contains("name") || meta["name"] == "") && meta.contains("generateName") && meta["generateName"].is_string())
    meta["name"] = meta["generateName"].get<std::string>() + random_suffix();
  meta["uid"] = random_uid();
  if (!body.contains("kind")) body["kind"] = t.kind;
  if (!body.contains("apiVersion")) body["apiVersion"] = t.api_version();
  if (t.resource == "jobs") {
    admit_job_create(body);
  } else {
    std::string name = meta.value("name", "");
    if (name.empty()) throw invalid(t.kind, t.group, "", {{"FieldValueRequired", "Required value: name or generateName is required", "metadata.name"}});
    if (t.resource != "events") {
      std::string why = validate_dns_subdomain(name);
      if (!why.empty()) throw invalid(t.kind, t.group, name, {{"FieldValueInvalid", "Invalid value: \"" + name + "\": " + why, "metadata.name"}});
    }
    if ((t.resource == "rolebindings" || t.resource == "clusterrolebindings") &&
        (!body.contains("roleRef") || !body["roleRef"].is_object() || body["roleRef"].value("name", "").empty()))
      throw invalid(t.kind, t.group, name, {{"FieldValueRequired", "Required value", "roleRef.name"}});
  }
  if (req.get_param_value("dryRun") == "All") {
    meta["creationTimestamp"] = rfc3339_now();
    return write_json(res, 201, body);
  }
  ObjectPtr stored = store_.create(t, std::move(body));
  if (t.resource == "jobs") controller_.job_created(stored->ns(), stored->name(), stored->uid());
  creates_.add({t.resource, stored->ns(), stored->name(), stored->uid(), rfc3339_micro_now()});
  res.status = 201;
  res.set_content(stored->text(), "application/json");
}

void ApiServer::do_update(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                          httplib::Response& res) {
  json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the request body must be a JSON object");
  if (!body.contains("metadata") || !body["metadata"].is_object()) body["metadata"] = json::object();
  std::string name = body["metadata"].value("name", "");
  if (name != info.name)
    throw bad_request("the name of the object (" + name + ") does not match the name on the URL (" + info.name + ")");
  if (t.namespaced) body["metadata"]["namespace"] = info.ns;
  if (!body.contains("kind")) body["kind"] = t.kind;
  if (!body.contains("apiVersion")) body["apiVersion"] = t.api_version();
  ObjectPtr current_ptr = store_.get(t, info.ns, info.name);
  if (!current_ptr) throw not_found(t.resource, t.group, info.name);
  if (t.resource == "jobs") {
    const json current = current_ptr->parse();
    check_job_types(body);
    auto causes = validate_job(body);
    if (!causes.empty()) throw invalid("Job", "batch", name, causes);
    long long gen = current["metadata"].value("generation", 1);
    body["metadata"]["generation"] = (body.value("spec", json()) != current["spec"]) ? gen + 1 : gen;
  }
  ObjectPtr stored = store_.replace(t, std::move(body));
  res.status = 200;
  res.set_content(stored->text(), "application/json");
}

void ApiServer::do_patch(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                         httplib::Response& res) {
  std::string ct = req.get_header_value("Content-Type");
  bool json_patch = ct.rfind("application/json-patch+json", 0) == 0;
  bool merge = ct.rfind("application/merge-patch+json", 0) == 0 || ct.rfind("application/strategic-merge-patch+json", 0) == 0;
  if (!json_patch && !merge)
    throw ApiError(415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
  json patch;
  try {
    patch = json::parse(req.body);
  } catch (const json::parse_error& e) {
    throw bad_request(std::string("error decoding patch: ") + e.what());
  }
  ObjectPtr stored = store_.update(t, info.ns, info.name, [&](json& obj) {
    json before = obj;
    try {
      if (json_patch) obj = obj.patch(patch);
      else obj.merge_patch(patch);
    } catch (const json::exception& e) {
      throw ApiError(422, "Invalid", std::string("the server rejected our request due to an error in our request: ") + e.what());
    }
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
    for (const char* k : {"name", "namespace", "uid", "creationTimestamp"})
      if (before["metadata"].contains(k)) obj["metadata"][k] = before["metadata"][k];
    if (t.resource == "jobs") {
      check_job_types(obj);
      auto causes = validate_job(obj);
      if (!causes.empty()) throw invalid("Job", "batch", info.name, causes);
      if (obj.value("spec", json()) != before.value("spec", json()))
        obj["metadata"]["generation"] = before["metadata"].value("generation", 1) + 1;
    }
    return obj != before;
  });
  if (!stored) throw not_found(t.resource, t.group, info.name);
  res.status = 200;
  res.set_content(stored->text(), "application/json");
}

void ApiServer::delete_object(const ResourceType& t, const std::string& ns, const std::string& name,
                              const json& options, httplib::Response& res, bool write_response) {
  ObjectPtr current_ptr = store_.get(t, ns, name);
  if (!current_ptr) throw not_found(t.resource, t.group, name);
  const json current_obj = current_ptr->parse();
  const json* current = &current_obj;
  if (options.contains("preconditions") && options["preconditions"].is_object()) {
    const json& pre = options["preconditions"];
    std::string uid = meta_str(*current, "uid");
    if (pre.contains("uid") && pre["uid"].is_string() && pre["uid"] != uid)
      throw conflict(t.resource, t.group, name,
                     "Precondition failed: UID in precondition: " + pre["uid"].get<std::string>() +
                         ", UID in object meta: " + uid);
    std::string rv = meta_str(*current, "resourceVersion");
    if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string() && pre["resourceVersion"] != rv)
      throw conflict(t.resource, t.group, name,
                     "Precondition failed: ResourceVersion in precondition: " +
                         pre["resourceVersion"].get<std::string>() + ", ResourceVersion in object meta: " + rv);
  }
  std::string propagation = options.value("propagationPolicy", "");
  if (propagation.empty()) {
    if (options.contains("orphanDependents") && options["orphanDependents"].is_boolean())
      propagation = options["orphanDependents"].get<bool>() ? "Orphan" : "Background";
    else
      propagation = t.resource == "jobs" ? "Orphan" : "Background";  // batch/v1 Jobs default to orphaning
  }
  if (propagation != "Orphan" && propagation != "Background" && propagation != "Foreground")
    throw invalid("DeleteOptions", "", "", {{"FieldValueNotSupported",
                                             "Unsupported value: \"" + propagation +
                                                 "\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
                                             "propagationPolicy"}});
  const std::string uid = meta_str(*current, "uid");
  const std::string now = rfc3339_now();
  if (t.resource == "jobs") {
    if (propagation == "Foreground") {
      ObjectPtr marked = controller_.delete_job_foreground(ns, name, uid);  // goes with its last pod
      controller_.poke(uid);
      if (write_response && marked) {
        res.status = 200;
        res.set_content(marked->text(), "application/json");
      }
      return;
    }
    store_.remove(t, ns, name, uid);
    controller_.delete_dependents(*current, propagation);
    controller_.poke(uid);  // lets the controller forget the job
    if (write_response) write_json(res, 200, make_success_status({{"name", name}, {"group", "batch"}, {"kind", "jobs"}, {"uid", uid}}));
    return;
  }
  if (t.resource == "pods") {
    std::optional<long long> grace;
    if (options.contains("gracePeriodSeconds") && options["gracePeriodSeconds"].is_number_integer())
      grace = options["gracePeriodSeconds"].get<long long>();
    ObjectPtr pod = controller_.delete_pod(ns, name, grace, uid);
    if (!pod) throw not_found(t.resource, t.group, name);
    if (write_response) {
      json out = pod->parse();
      if (!out["metadata"].contains("deletionTimestamp")) {  // removed at once
        out["metadata"]["deletionTimestamp"] = now;
        out["metadata"]["deletionGracePeriodSeconds"] = 0;
      }
      write_json(res, 200, out);
    }
    return;
  }
  ObjectPtr removed = store_.remove(t, ns, name, uid);
  if (!removed) throw not_found(t.resource, t.group, name);
  if (write_response)
    write_json(res, 200, make_success_status(json{{"name", name}, {"group", t.group}, {"kind", t.resource}, {"uid", uid}}));
}

namespace {
json delete_options(const httplib::Request& req) {
  json opts = json::object();
  if (!req.body.empty()) {
    try {
      opts = json::parse(req.body);
    } catch (const json::parse_error& e) {
      throw bad_request(std::string("couldn't decode DeleteOptions: ") + e.what());
    }
    if (!opts.is_object()) throw bad_request("DeleteOptions must be a JSON object");
  }
  if (req.has_param("propagationPolicy")) opts["propagationPolicy"] = req.get_param_value("propagationPolicy");
  if (req.has_param("gracePeriodSeconds"))
    opts["gracePeriodSeconds"] = parse_int_param(req, "gracePeriodSeconds", 0);
  if (req.has_param("orphanDependents")) opts["orphanDependents"] = bool_param(req, "orphanDependents");
  return opts;
}
}  // namespace

void ApiServer::do_delete(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                          httplib::Response& res) {
  json opts = delete_options(req);
  if (req.get_param_value("dryRun") == "All" || (opts.contains("dryRun") && !opts["dryRun"].empty())) {
    ObjectPtr obj = store_.get(t, info.ns, info.name);
    if (!obj) throw not_found(t.resource, t.group, info.name);
    res.status = 200;
    res.set_content(obj->text(), "application/json");
    return;
  }
  delete_object(t, info.ns, info.name, opts, res, true);
}

void ApiServer::do_delete_collection(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                                     httplib::Response& res) {
  json opts = delete_options(req);
  auto ls = LabelSelector::parse(req.get_param_value("labelSelector"));
  auto fs = FieldSelector::parse(req.get_param_value("fieldSelector"));
  auto victims = store_.list(t, info.ns, make_filter(ls, fs));
  json items = json::array();
  for (const auto& v : victims.items) {
    try {
      delete_object(t, v->ns(), v->name(), opts, res, false);
      items.push_back(v->parse());
    } catch (const ApiError& e) {
      if (e.code() != 404) throw;
    }
  }
  write_json(res, 200, {{"kind", t.kind + "List"}, {"apiVersion", t.api_version()},
                        {"metadata", {{"resourceVersion", std::to_string(store_.current_rv())}}}, {"items", items}});
}

void ApiServer::do_pod_log(const RequestInfo& info, const httplib::Request& req, httplib::Response& res) {
  const ResourceType* pods = registry_.find("", "v1", "pods");
  ObjectPtr pod_ptr = store_.get(*pods, info.ns, info.name);
  if (!pod_ptr) throw not_found("pods", "", info.name);
  const json pod_obj = pod_ptr->parse();
  const json* pod = &pod_obj;
  const json& containers = (*pod)["spec"]["containers"];
  std::string container = req.get_param_value("container");
  if (container.empty()) {
    if (containers.size() != 1) {
      std::string names;
      for (const auto& c : containers) {
        if (!names.empty()) names += ' ';
        names += c.value("name", "");
      }
      throw bad_request("a container name must be specified for pod " + info.name + ", choose one of: [" + names + "]");
    }
    container = containers[0].value("name", "");
  }
  bool known = false;
  for (const auto& c : containers) known = known || c.value("name", "") == container;
  if (!known) throw bad_request("container " + container + " is not valid for pod " + info.name);
  if (bool_param(req, "previous"))
    throw bad_request("previous terminated container \"" + container + "\" in pod \"" + info.name + "\" not found");
  auto container_state = [container](const json& p) -> json {
    for (const auto& cs : p["status"].value("containerStatuses", json::array()))
      if (cs.value("name", "") == container) return cs.value("state", json::object());
    return json::object();
  };
  json state = container_state(*pod);
  if (state.empty() || state.contains("waiting")) {
    std::string reason = state.contains("waiting") ? state["waiting"].value("reason", "ContainerCreating") : "ContainerCreating";
    if (reason == "ErrImagePull" || reason == "ImagePullBackOff") reason = "trying and failing to pull image";
    throw bad_request("container \"" + container + "\" in pod \"" + info.name + "\" is waiting to start: " + reason);
  }
  std::string log = controller_.pod_log(info.ns, info.name).value_or("");
  // Split into lines, apply tailLines / timestamps / limitBytes.
  std::vector<std::string> lines;
  {
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line + "\n");
  }
  long long tail = parse_int_param(req, "tailLines", -1);
  if (tail >= 0 && static_cast<std::size_t>(tail) < lines.size()) lines.erase(lines.begin(), lines.end() - tail);
  const bool timestamps = bool_param(req, "timestamps");
  std::string started = state.contains("running") ? state["running"].value("startedAt", "")
                        : state.contains("terminated") ? state["terminated"].value("startedAt", "") : "";
  std::string text;
  for (const auto& l : lines) text += (timestamps ? started.substr(0, started.size() - 1) + ".000000000Z " : "") + l;
  long long limit_bytes = parse_int_param(req, "limitBytes", -1);
  if (limit_bytes >= 0 && static_cast<std::size_t>(limit_bytes) < text.size()) text.resize(limit_bytes);
  const bool follow = bool_param(req, "follow");
  if (!follow || state.contains("terminated")) {
    res.status = 200;
    res.set_content(text, "text/plain");
    return;
  }
  // follow: stream what there is, then hold the stream open until the container ends.
  disable_compression(req);
  auto sent = std::make_shared<bool>(false);
  const std::string ns = info.ns, name = info.name;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.watch_timeout_seconds);
  res.status = 200;
  res.set_chunked_content_provider("text/plain", [this, sent, text, ns, name, pods, container_state, deadline](
                                                     std::size_t, httplib::DataSink& sink) {
    if (!*sent) {
      *sent = true;
      if (!text.empty() && !sink.write(text.data(), text.size())) return false;
      if (text.empty()) return true;
    }
    ObjectPtr p = store_.get(*pods, ns, name);
    if (!p || container_state(p->parse()).contains("terminated") || closing_ ||
        std::chrono::steady_clock::now() >= deadline) {
      sink.done();
      return true;
    }
    if (!sink.is_writable()) return false;
    store_.wait_for_change(store_.current_rv(), std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    return true;
  });
}

void ApiServer::do_self_subject_access_review(const UserInfo& user, const json& body, httplib::Response& res) {
  if (!body.is_object() || !body.contains("spec") || !body["spec"].is_object())
    throw invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                  {{"FieldValueInvalid", "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified", "spec.resourceAttributes"}});
  const json& spec = body["spec"];
  RequestAttributes attrs;
  attrs.user = user;
  if (spec.contains("resourceAttributes") && spec["resourceAttributes"].is_object()) {
    const json& ra = spec["resourceAttributes"];
    attrs.resource_request = true;
    attrs.ns = ra.value("namespace", "");
    attrs.verb = ra.value("verb", "");
    attrs.group = ra.value("group", "");
    attrs.resource = ra.value("resource", "");
    attrs.subresource = ra.value("subresource", "");
    attrs.name = ra.value("name", "");
  } else if (spec.contains("nonResourceAttributes") && spec["nonResourceAttributes"].is_object()) {
    attrs.resource_request = false;
    attrs.path = spec["nonResourceAttributes"].value("path", "");
    attrs.verb = spec["nonResourceAttributes"].value("verb", "");
  } else {
    throw invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                  {{"FieldValueInvalid", "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified", "spec.resourceAttributes"}});
  }
  auto decision = authz_.authorize(attrs);
  json out = body;
  out["kind"] = "SelfSubjectAccessReview";
  out["apiVersion"] = "authorization.k8s.io/v1";
  if (!out.contains("metadata") || !out["metadata"].is_object()) out["metadata"] = json::object();
  out["metadata"]["creationTimestamp"] = nullptr;
  json status = {{"allowed", decision.allowed}};
  if (!decision.reason.empty()) status["reason"] = decision.reason;
  out["status"] = status;
  write_json(res, 201, out);
}

}  // namespace kjq::emulator
