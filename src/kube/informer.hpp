#pragma once
// An informer, cut down from client-go's tools/cache: one list+watch (kube::ListWatch) of one
// resource in one namespace, kept in a thread-safe store keyed by object name, with one optional
// secondary index (e.g. pods by their Job) and a change callback. The store keeps what
// `transform` makes of each object (a slim copy, so thousands of Jobs cost little), shared and
// immutable: readers get a shared_ptr and never block the watch for longer than a map lookup.
//
// A (re)list is reconciled against the store: objects that appeared are Added, those still there
// Modified, those gone while the watch was down Deleted, as client-go's Replace does. `keep`
// filters on the client what a server-side selector cannot say (selectors have no OR); an object
// that stops matching is Deleted from the store.
//
// The watch runs on a thread of its own. It resumes from the last resourceVersion and relists on
// 410; a failure that retrying cannot fix (403, ...) is retried with backoff (a service that must
// outlive an RBAC fix) or stops the informer with the error (a command that must report it).
#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"

namespace kjq::kube {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

enum class ChangeKind { Added, Modified, Deleted };

struct InformerChange {
  ChangeKind kind = ChangeKind::Modified;
  std::string name;
  std::string index_key;   // the object's secondary key ("" without an index)
  ObjectPtr object;        // the stored object; for Deleted, the last one stored
  bool from_list = false;  // part of a (re)list, not a watch event
};

enum class OnFailure {
  RetryForever,  // back off 0.2 s … 10 s and list again; `healthy()` is false meanwhile
  Stop,          // stop the informer; `error()` says why and the handler's `on_failed` runs
};

struct InformerOptions {
  ListOptions selectors;  // applied by the server (and its parse_filter while parsing)
  int watch_timeout_seconds = 300;
  std::function<bool(const nlohmann::json&)> keep;                 // unset: keep everything
  std::function<nlohmann::json(const nlohmann::json&)> transform;  // unset: keep the object whole
  std::function<std::string(const nlohmann::json&)> index;         // unset: no secondary index
  OnFailure on_failure = OnFailure::RetryForever;
  int max_consecutive_failures = 8;  // OnFailure::Stop: transient failures tolerated in a row
  std::string what = "objects";      // names the watch in logs and errors ("jobs", "pods")
};

struct InformerStats {
  long restarts = 0;  // watch streams resumed or relisted
  long relists = 0;   // full relists after 410 Gone or a failure
  long failures = 0;  // attempts that failed (OnFailure::RetryForever)
};

class Informer {
 public:
  struct Handlers {
    // After the store has changed, on the informer's thread, outside its lock, one at a time.
    std::function<void(const InformerChange&)> on_change;
    // After each (re)list has been reconciled (its changes already delivered).
    std::function<void()> on_synced;
    // OnFailure::Stop: the informer stopped; error() holds why.
    std::function<void()> on_failed;
  };

  Informer(KubeApi& api, Resource resource, std::string ns, InformerOptions options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void start(Handlers handlers);
  void stop();

  // Listed at least once.
  bool synced() const { return synced_; }
  // Synced, and the watch is not failing right now.
  bool healthy() const { return synced_ && !failing_; }
  // OnFailure::Stop: what stopped it (null while it runs).
  std::exception_ptr error() const;

  ObjectPtr get(const std::string& name) const;
  std::vector<ObjectPtr> by_index(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<std::string> names() const;
  std::size_t size() const;
  InformerStats stats() const;
  std::string last_error() const;

 private:
  struct Entry {
    ObjectPtr object;
    std::string index_key;
  };
  void run();
  void run_watch();
  std::vector<InformerChange> reconcile(const std::vector<nlohmann::json>& items);
  std::vector<InformerChange> apply(const std::string& type, const nlohmann::json& object);
  void deliver(const std::vector<InformerChange>& changes) const;
  void put_locked(const std::string& name, Entry entry);
  void erase_locked(const std::string& name);
  Entry make_entry(const nlohmann::json& object) const;

  KubeApi& api_;
  Resource resource_;
  std::string ns_;
  InformerOptions options_;
  Handlers handlers_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> failing_{false};
  mutable std::mutex mu_;
  std::map<std::string, Entry> store_;
  std::map<std::string, std::set<std::string>> index_;  // index key → names
  InformerStats stats_;
  std::string last_error_;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace kjq::kube
