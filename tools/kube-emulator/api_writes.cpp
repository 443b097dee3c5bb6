// The write verbs: create, update (PUT), patch, delete (with propagation and graceful pod
// deletion) and deletecollection.
#include "api_request.hpp"
#include "api_server.hpp"
#include "api_status.hpp"
#include "job_admission.hpp"
#include "selectors.hpp"
#include "sim_clock.hpp"

namespace kjq::emulator {

using nlohmann::json;

void ApiServer::do_create(const ResourceType& t, const RequestInfo& info, const UserInfo& user,
                          const httplib::Request& req, httplib::Response& res) {
  (void)user;
  json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the request body must be a JSON object");
  if (!body.contains("metadata") || !body["metadata"].is_object()) body["metadata"] = json::object();
  json& meta = body["metadata"];
  if (body.contains("kind") && body["kind"] != t.kind && t.resource != "jobs")
    throw bad_request("the object provided is unrecognized (must be of type " + t.kind + "): kind " +
                      body["kind"].dump());
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
  if ((!meta.contains("name") || meta["name"] == "") && meta.contains("generateName") &&
      meta["generateName"].is_string())
    meta["name"] = meta["generateName"].get<std::string>() + random_suffix();
  meta["uid"] = random_uid();
  if (!body.contains("kind")) body["kind"] = t.kind;
  if (!body.contains("apiVersion")) body["apiVersion"] = t.api_version();
  if (t.resource == "jobs") {
    admit_job_create(body);
  } else {
    std::string name = meta.value("name", "");
    if (name.empty())
      throw invalid(t.kind, t.group, "",
                    {{"FieldValueRequired", "Required value: name or generateName is required", "metadata.name"}});
    if (t.resource != "events") {
      std::string why = validate_dns_subdomain(name);
      if (!why.empty())
        throw invalid(t.kind, t.group, name,
                      {{"FieldValueInvalid", "Invalid value: \"" + name + "\": " + why, "metadata.name"}});
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

namespace {

const char* const kOptimisticLock =
    "the object has been modified; please apply your changes to the latest version and try again";

// The name and namespace of an object sent to an item URL (PUT body, or a patch's outcome): the
// API server's checkName. A missing namespace is the request's.
void check_name_and_namespace(json& obj, const ResourceType& t, const RequestInfo& info) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  json& meta = obj["metadata"];
  const std::string name = meta.contains("name") && meta["name"].is_string() ? meta["name"].get<std::string>() : "";
  if (name != info.name)
    throw bad_request("the name of the object (" + name + ") does not match the name on the URL (" + info.name + ")");
  if (!t.namespaced) return;
  if (meta.contains("namespace") && meta["namespace"].is_string() && !meta["namespace"].get<std::string>().empty() &&
      meta["namespace"] != info.ns)
    throw bad_request("the namespace of the provided object does not match the namespace sent on the request");
  meta["namespace"] = info.ns;
}

// What kube-apiserver answers when a JSON patch does not apply (a failed `test`, a missing path):
// errors.NewGenericServerResponse(422, ...), which keeps none of the patch library's words.
ApiError patch_not_applicable() {
  return ApiError(422, "Invalid", "the server rejected our request due to an error in our request", json::object());
}

}  // namespace

void ApiServer::do_update(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                          httplib::Response& res) {
  json body = parse_body(req);
  if (!body.is_object()) throw bad_request("the request body must be a JSON object");
  check_name_and_namespace(body, t, info);
  if (!body.contains("kind")) body["kind"] = t.kind;
  if (!body.contains("apiVersion")) body["apiVersion"] = t.api_version();
  ObjectPtr current_ptr = store_.get(t, info.ns, info.name);
  if (!current_ptr) throw not_found(t.resource, t.group, info.name);
  if (t.resource == "jobs") {
    const json current = current_ptr->parse();
    // The storage preconditions come first: the uid and resourceVersion the body names.
    const std::string uid = meta_str(body, "uid");
    if (!uid.empty() && uid != current_ptr->uid())
      throw conflict(
          t.resource, t.group, info.name,
          "Precondition failed: UID in precondition: " + uid + ", UID in object meta: " + current_ptr->uid());
    const std::string rv = meta_str(body, "resourceVersion");
    if (!rv.empty() && rv != current_ptr->resource_version())
      throw conflict(t.resource, t.group, info.name, kOptimisticLock);
    admit_job_update(body, current);
  }
  ObjectPtr stored = store_.replace(t, std::move(body));
  if (t.resource == "jobs") controller_.poke(stored->uid());
  res.status = 200;
  res.set_content(stored->text(), "application/json");
}

void ApiServer::do_patch(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                         httplib::Response& res) {
  std::string ct = req.get_header_value("Content-Type");
  bool json_patch = ct.rfind("application/json-patch+json", 0) == 0;
  bool merge =
      ct.rfind("application/merge-patch+json", 0) == 0 || ct.rfind("application/strategic-merge-patch+json", 0) == 0;
  if (!json_patch && !merge)
    throw ApiError(415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, "
                   "application/strategic-merge-patch+json");
  json patch;
  try {
    patch = json::parse(req.body);
  } catch (const json::parse_error& e) {
    throw bad_request(std::string("error decoding patch: ") + e.what());
  }
  if (json_patch && !patch.is_array())
    throw bad_request("json: cannot unmarshal " + std::string(patch.is_object() ? "object" : "value") +
                      " into Go value of type jsonpatch.Patch");
  ObjectPtr stored = store_.update(t, info.ns, info.name, [&](json& obj) {
    const json before = obj;
    try {
      if (json_patch)
        obj = obj.patch(patch);  // RFC 6902: add, remove, replace, move, copy, test
      else
        obj.merge_patch(patch);  // RFC 7386
    } catch (const json::exception&) {
      throw patch_not_applicable();
    }
    if (!obj.is_object()) throw patch_not_applicable();
    check_name_and_namespace(obj, t, info);
    // A resourceVersion in the patched object is a precondition, checked before validation.
    const std::string rv = meta_str(obj, "resourceVersion");
    const std::string current_rv = meta_str(before, "resourceVersion");
    if (!rv.empty() && rv != current_rv) throw conflict(t.resource, t.group, info.name, kOptimisticLock);
    obj["metadata"]["resourceVersion"] = current_rv;
    if (t.resource == "jobs") {
      admit_job_update(obj, before);
    } else {
      for (const char* k : {"uid", "creationTimestamp"})
        if (before["metadata"].contains(k)) obj["metadata"][k] = before["metadata"][k];
    }
    return obj != before;
  });
  if (!stored) throw not_found(t.resource, t.group, info.name);
  if (t.resource == "jobs") controller_.poke(stored->uid());
  res.status = 200;
  res.set_content(stored->text(), "application/json");
}

void ApiServer::delete_object(const ResourceType& t, const std::string& ns, const std::string& name,
                              const json& options, httplib::Response& res, DeleteAnswer answer) {
  const bool write_response = answer == DeleteAnswer::Write;
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
    throw invalid(
        "DeleteOptions", "", "",
        {{"FieldValueNotSupported",
          "Unsupported value: \"" + propagation + "\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
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
    if (write_response)
      write_json(res, 200, make_success_status({{"name", name}, {"group", "batch"}, {"kind", "jobs"}, {"uid", uid}}));
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
    write_json(res, 200,
               make_success_status(json{{"name", name}, {"group", t.group}, {"kind", t.resource}, {"uid", uid}}));
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
  if (req.has_param("gracePeriodSeconds")) opts["gracePeriodSeconds"] = parse_int_param(req, "gracePeriodSeconds", 0);
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
  delete_object(t, info.ns, info.name, opts, res, DeleteAnswer::Write);
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
      delete_object(t, v->ns(), v->name(), opts, res, DeleteAnswer::Skip);
      items.push_back(v->parse());
    } catch (const ApiError& e) {
      if (e.code() != 404) throw;
    }
  }
  write_json(res, 200,
             {{"kind", t.kind + "List"},
              {"apiVersion", t.api_version()},
              {"metadata", {{"resourceVersion", std::to_string(store_.current_rv())}}},
              {"items", items}});
}

}  // namespace kjq::emulator
