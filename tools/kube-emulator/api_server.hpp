#pragma once
// HTTP routing of the Kubernetes API onto the store, controller, authenticator and authorizer:
// discovery, OpenAPI, CRUD + list + watch for the registered resources, pods/log and
// SelfSubjectAccessReview. Transport-agnostic apart from httplib request/response types.
// Defined in api_server.cpp (routing, discovery, get, list), api_watch.cpp, api_writes.cpp and
// api_logs_and_reviews.cpp.
#include <httplib.h>
#include <atomic>

#include <nlohmann/json.hpp>
#include <string>

#include "create_log.hpp"
#include "fault_injector.hpp"
#include "job_controller.hpp"
#include "object_store.hpp"
#include "rbac_authorizer.hpp"
#include "request_info.hpp"
#include "resource_registry.hpp"
#include "token_auth.hpp"

namespace kjq::emulator {

struct ApiServerOptions {
  double bookmark_interval_seconds = 1.0;  // BOOKMARK cadence for allowWatchBookmarks (not scaled)
  int watch_timeout_seconds = 1800;        // server-side cap on a watch
  bool verbose = false;                    // log every request on stderr
};

class ApiServer {
 public:
  ApiServer(const ResourceRegistry& registry, ObjectStore& store, JobController& controller,
            const TokenAuthenticator& authn, const RbacAuthorizer& authz, FaultInjector& faults,
            ApiServerOptions options);

  // Registers the catch-all handlers on `server`.
  void install(httplib::Server& server);
  // Ends open watch and follow streams (shutdown, or a refused-connections period).
  void close_streams();
  void reopen_streams() { closing_ = false; }
  const CreateLog& creates() const { return creates_; }

  // Exposed for tests: answer one request.
  void handle(const httplib::Request& req, httplib::Response& res);

 private:
  void serve_discovery(const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void serve_resource(const RequestInfo& info, const UserInfo& user, const httplib::Request& req,
                      httplib::Response& res);
  void do_list(const ResourceType& t, const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void do_watch(const ResourceType& t, const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void do_create(const ResourceType& t, const RequestInfo& info, const UserInfo& user, const httplib::Request& req,
                 httplib::Response& res);
  void do_update(const ResourceType& t, const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void do_patch(const ResourceType& t, const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void do_delete(const ResourceType& t, const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void do_delete_collection(const ResourceType& t, const RequestInfo& info, const httplib::Request& req,
                            httplib::Response& res);
  void do_pod_log(const RequestInfo& info, const httplib::Request& req, httplib::Response& res);
  void do_self_subject_access_review(const UserInfo& user, const nlohmann::json& body, httplib::Response& res);
  // Whether a delete writes its answer (a single DELETE) or leaves it to the caller (deletecollection).
  enum class DeleteAnswer { Write, Skip };
  void delete_object(const ResourceType& t, const std::string& ns, const std::string& name,
                     const nlohmann::json& options, httplib::Response& res, DeleteAnswer answer);

  const ResourceRegistry& registry_;
  ObjectStore& store_;
  JobController& controller_;
  const TokenAuthenticator& authn_;
  const RbacAuthorizer& authz_;
  FaultInjector& faults_;
  ApiServerOptions options_;
  std::atomic<bool> closing_{false};
  CreateLog creates_;
};

void write_json(httplib::Response& res, int status, const nlohmann::json& body);
void write_status_error(httplib::Response& res, const class ApiError& e);

}  // namespace kjq::emulator
