#include "object_store.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "api_status.hpp"
#include "selectors.hpp"
#include "sim_clock.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}
const std::string& meta_string(const json& obj, const char* field) {
  static const std::string empty;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return empty;
  auto f = m->find(field);
  if (f == m->end() || !f->is_string()) return empty;
  return f->get_ref<const std::string&>();
}
}  // namespace

std::string object_key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

StoredObject::StoredObject(const json& object)
    : text_(object.dump()),
      ns_(meta_string(object, "namespace")),
      name_(meta_string(object, "name")),
      uid_(meta_string(object, "uid")),
      resource_version_(meta_string(object, "resourceVersion")) {
  text_.shrink_to_fit();  // dump() grows its buffer by doubling; stored objects live long
  auto m = object.find("metadata");
  if (m != object.end() && m->is_object())
    if (auto l = m->find("labels"); l != m->end()) labels_ = Labels(*l);
  if (object.contains("involvedObject")) involved_object_name_ = field_value(object, "involvedObject.name");
}

std::string random_uid() {
  std::uniform_int_distribution<uint64_t> d;
  uint64_t a = d(rng()), b = d(rng());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string random_suffix(std::size_t n) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<std::size_t> d(0, sizeof alphabet - 2);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[d(rng())];
  return s;
}

ObjectStore::ObjectStore(std::size_t history_per_resource) : history_limit_(history_per_resource) {}

ObjectStore::Bucket& ObjectStore::bucket(const ResourceType& type) { return buckets_[type.resource]; }

const ObjectStore::Bucket* ObjectStore::find_bucket(const ResourceType& type) const {
  auto it = buckets_.find(type.resource);
  return it == buckets_.end() ? nullptr : &it->second;
}

void ObjectStore::record(Bucket& b, StoredEvent ev) {
  b.history.push_back(std::move(ev));
  while (b.history.size() > history_limit_) {
    b.compacted_rv = b.history.front().rv;
    b.history.pop_front();
  }
}

ObjectPtr ObjectStore::create(const ResourceType& type, json object) {
  std::string name = meta_string(object, "name");
  std::string ns = type.namespaced ? meta_string(object, "namespace") : "";
  ObjectPtr result;
  {
    std::lock_guard lock(mu_);
    Bucket& b = bucket(type);
    std::string key = object_key(ns, name);
    if (b.objects.count(key)) throw already_exists(type.resource, type.group, name);
    auto& meta = object["metadata"];
    if (meta.find("uid") == meta.end() || !meta["uid"].is_string() || meta["uid"].get<std::string>().empty())
      meta["uid"] = random_uid();
    meta["resourceVersion"] = std::to_string(++rv_);
    if (!meta.contains("creationTimestamp") || meta["creationTimestamp"].is_null())
      meta["creationTimestamp"] = rfc3339_now();
    result = std::make_shared<const StoredObject>(object);
    b.objects.emplace(key, result);
    record(b, {rv_, "ADDED", result, nullptr});
  }
  cv_.notify_all();
  return result;
}

ObjectPtr ObjectStore::get(const ResourceType& type, const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mu_);
  const Bucket* b = find_bucket(type);
  if (!b) return nullptr;
  auto it = b->objects.find(object_key(type.namespaced ? ns : "", name));
  return it == b->objects.end() ? nullptr : it->second;
}

ObjectPtr ObjectStore::update(const ResourceType& type, const std::string& ns, const std::string& name,
                              const std::function<bool(json&)>& mutate, const std::string& uid) {
  ObjectPtr result;
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    Bucket& b = bucket(type);
    auto it = b.objects.find(object_key(type.namespaced ? ns : "", name));
    if (it == b.objects.end()) return nullptr;
    if (!uid.empty() && it->second->uid() != uid) return nullptr;
    json copy = it->second->parse();
    if (!mutate(copy)) return it->second;
    copy["metadata"]["resourceVersion"] = std::to_string(++rv_);
    ObjectPtr previous = it->second;
    result = std::make_shared<const StoredObject>(copy);
    it->second = result;
    record(b, {rv_, "MODIFIED", result, previous});
    changed = true;
  }
  if (changed) cv_.notify_all();
  return result;
}

ObjectPtr ObjectStore::replace(const ResourceType& type, json object) {
  std::string name = meta_string(object, "name");
  std::string ns = type.namespaced ? meta_string(object, "namespace") : "";
  ObjectPtr result;
  {
    std::lock_guard lock(mu_);
    Bucket& b = bucket(type);
    auto it = b.objects.find(object_key(ns, name));
    if (it == b.objects.end()) throw not_found(type.resource, type.group, name);
    const std::string& want = meta_string(object, "resourceVersion");
    if (!want.empty() && want != it->second->resource_version())
      throw conflict(type.resource, type.group, name,
                     "the object has been modified; please apply your changes to the latest version and try again");
    auto& meta = object["metadata"];
    const json old = it->second->parse();
    meta["uid"] = old["metadata"].value("uid", "");
    meta["creationTimestamp"] = old["metadata"].value("creationTimestamp", "");
    meta["resourceVersion"] = std::to_string(++rv_);
    ObjectPtr previous = it->second;
    result = std::make_shared<const StoredObject>(object);
    it->second = result;
    record(b, {rv_, "MODIFIED", result, previous});
  }
  cv_.notify_all();
  return result;
}

ObjectPtr ObjectStore::remove(const ResourceType& type, const std::string& ns, const std::string& name,
                              const std::string& uid) {
  ObjectPtr result;
  {
    std::lock_guard lock(mu_);
    Bucket& b = bucket(type);
    auto it = b.objects.find(object_key(type.namespaced ? ns : "", name));
    if (it == b.objects.end()) return nullptr;
    if (!uid.empty() && it->second->uid() != uid) return nullptr;
    json last = it->second->parse();
    last["metadata"]["resourceVersion"] = std::to_string(++rv_);
    ObjectPtr previous = it->second;
    result = std::make_shared<const StoredObject>(last);
    b.objects.erase(it);
    record(b, {rv_, "DELETED", result, previous});
  }
  cv_.notify_all();
  return result;
}

ObjectStore::ListResult ObjectStore::list(const ResourceType& type, const std::string& ns,
                                          const std::function<bool(const StoredObject&)>& filter,
                                          const std::string& after_key, std::size_t limit) const {
  ListResult r;
  std::lock_guard lock(mu_);
  r.rv = rv_;
  const Bucket* b = find_bucket(type);
  if (!b) return r;
  auto it = after_key.empty() ? b->objects.begin() : b->objects.upper_bound(after_key);
  std::string prefix = ns.empty() ? "" : ns + "/";
  if (!prefix.empty() && after_key.empty()) it = b->objects.lower_bound(prefix);
  for (; it != b->objects.end(); ++it) {
    if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (filter && !filter(*it->second)) continue;
    if (limit && r.items.size() == limit) {
      r.remaining++;
      continue;
    }
    r.items.push_back(it->second);
    r.last_key = it->first;
  }
  return r;
}

ObjectStore::HistoryResult ObjectStore::events_after(const ResourceType& type, uint64_t after_rv) const {
  HistoryResult r;
  std::lock_guard lock(mu_);
  r.rv = rv_;
  const Bucket* b = find_bucket(type);
  if (!b) return r;
  r.oldest_rv = b->compacted_rv;
  if (after_rv < b->compacted_rv) {
    r.expired = true;
    return r;
  }
  // History is sorted by rv: binary search for the first event after `after_rv`.
  auto it = std::upper_bound(b->history.begin(), b->history.end(), after_rv,
                             [](uint64_t v, const StoredEvent& e) { return v < e.rv; });
  r.events.assign(it, b->history.end());
  return r;
}

void ObjectStore::wait_for_change(uint64_t seen_rv, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return rv_ > seen_rv; });
}

void ObjectStore::wake_all() const { cv_.notify_all(); }

uint64_t ObjectStore::current_rv() const {
  std::lock_guard lock(mu_);
  return rv_;
}

std::size_t ObjectStore::count(const ResourceType& type) const {
  std::lock_guard lock(mu_);
  const Bucket* b = find_bucket(type);
  return b ? b->objects.size() : 0;
}

}  // namespace kjq::emulator
