#pragma once
// The emulator's etcd: objects by resource / namespace / name, one monotonic resourceVersion
// counter for everything, and a bounded per-resource history of watch events.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "labels.hpp"
#include "resource_registry.hpp"

namespace kjq::emulator {

// An immutable stored object: its compact JSON text (what the API serves, and ~5x smaller
// than a parsed tree) plus the metadata that lookups and label selectors need. Snapshots are
// shared by the store, its watch history and readers.
class StoredObject {
 public:
  explicit StoredObject(const nlohmann::json& object);
  const std::string& text() const { return text_; }
  nlohmann::json parse() const { return nlohmann::json::parse(text_); }
  const std::string& ns() const { return ns_; }
  const std::string& name() const { return name_; }
  const std::string& uid() const { return uid_; }
  const std::string& resource_version() const { return resource_version_; }
  const Labels& labels() const { return labels_; }
  // An Event's involvedObject.name, as a field selector reads it ("" for other objects): a list of a Job's or a pod's
  // Events by field selector compares this instead of scanning every Event's text (tens of thousands of them after a
  // burst; the API server answers these from its cache, without parsing).
  const std::string& involved_object_name() const { return involved_object_name_; }

 private:
  std::string text_;
  std::string ns_, name_, uid_, resource_version_, involved_object_name_;
  Labels labels_;
};
using ObjectPtr = std::shared_ptr<const StoredObject>;

struct StoredEvent {
  uint64_t rv = 0;
  std::string type;    // ADDED, MODIFIED, DELETED
  ObjectPtr object;    // the object after the change (for DELETED: the last state, new rv)
  ObjectPtr previous;  // before the change (null for ADDED)
};

class ObjectStore {
 public:
  explicit ObjectStore(std::size_t history_per_resource = 1000);

  // Sets metadata.uid, resourceVersion, creationTimestamp. Throws AlreadyExists.
  ObjectPtr create(const ResourceType& type, nlohmann::json object);
  ObjectPtr get(const ResourceType& type, const std::string& ns, const std::string& name) const;
  // Atomic read-modify-write. `mutate` returns false to leave the object unchanged. Returns the
  // current object, or null when absent (or when `uid` is given and does not match).
  ObjectPtr update(const ResourceType& type, const std::string& ns, const std::string& name,
                   const std::function<bool(nlohmann::json&)>& mutate, const std::string& uid = "");
  // PUT semantics: replaces the object; a non-empty metadata.resourceVersion must match (409).
  ObjectPtr replace(const ResourceType& type, nlohmann::json object);
  // Returns the deleted object (with the deletion's resourceVersion) or null when absent.
  ObjectPtr remove(const ResourceType& type, const std::string& ns, const std::string& name,
                   const std::string& uid = "");

  struct ListResult {
    std::vector<ObjectPtr> items;
    uint64_t rv = 0;
    std::string last_key;       // key of the last item returned, for continue tokens
    std::size_t remaining = 0;  // matching items after the last returned (when limited)
  };
  // Items in key order ("ns/name"), after `after_key`, at most `limit` (0 = all) that pass `filter`.
  ListResult list(const ResourceType& type, const std::string& ns,
                  const std::function<bool(const StoredObject&)>& filter = nullptr, const std::string& after_key = "",
                  std::size_t limit = 0) const;

  struct HistoryResult {
    bool expired = false;    // `after_rv` is older than the retained history
    uint64_t oldest_rv = 0;  // oldest rv a watch can still start from
    uint64_t rv = 0;         // current rv
    std::vector<StoredEvent> events;
  };
  HistoryResult events_after(const ResourceType& type, uint64_t after_rv) const;
  // Block until the global rv exceeds `seen_rv`, or until `deadline`, or wake_all().
  void wait_for_change(uint64_t seen_rv, std::chrono::steady_clock::time_point deadline) const;
  void wake_all() const;

  uint64_t current_rv() const;
  std::size_t count(const ResourceType& type) const;

 private:
  struct Bucket {
    std::map<std::string, ObjectPtr> objects;  // "ns/name"
    std::deque<StoredEvent> history;
    uint64_t compacted_rv = 0;  // events with rv <= this were dropped
  };
  Bucket& bucket(const ResourceType& type);
  const Bucket* find_bucket(const ResourceType& type) const;
  void record(Bucket& b, StoredEvent ev);

  std::size_t history_limit_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::unordered_map<std::string, Bucket> buckets_;  // by resource plural
  uint64_t rv_ = 0;
};

std::string object_key(const std::string& ns, const std::string& name);
std::string random_uid();
// Lowercase alphanumerics as the API server uses for generateName suffixes.
std::string random_suffix(std::size_t n = 5);

}  // namespace kjq::emulator
