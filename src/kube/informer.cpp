#include "kube/informer.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "kube/object_meta.hpp"
#include "kube/watch.hpp"

namespace kjq::kube {

using nlohmann::json;

Informer::Informer(KubeApi& api, Resource resource, std::string ns, InformerOptions options)
    : api_(api), resource_(std::move(resource)), ns_(std::move(ns)), options_(std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::start(Handlers handlers) {
  handlers_ = std::move(handlers);
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::exception_ptr Informer::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void Informer::run() {
  int failures = 0;
  while (!stop_) {
    try {
      run_watch();
      failures = 0;
    } catch (const std::exception& e) {
      // A list succeeded since the last failure (it cleared `failing_`): this is a new first one.
      failures = failing_ ? failures + 1 : 1;
      failing_ = true;
      {
        std::lock_guard lock(mu_);
        ++stats_.failures;
        last_error_ = "watch " + options_.what + ": " + e.what();
        if (options_.on_failure == OnFailure::Stop) error_ = std::current_exception();
      }
      if (options_.on_failure == OnFailure::Stop) {
        if (handlers_.on_failed) handlers_.on_failed();
        return;
      }
      spdlog::warn("watch {} failed ({}); retrying", options_.what, e.what());
    }
    // Back off 0.2 s, 0.4 s, ... up to 10 s, waking early on stop.
    const auto wait = std::chrono::milliseconds(std::min(10000, 200 << std::min(failures, 6)));
    for (auto until = std::chrono::steady_clock::now() + wait; !stop_ && std::chrono::steady_clock::now() < until;)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Informer::run_watch() {
  ListWatch watch(api_, resource_, ns_, options_.selectors, options_.watch_timeout_seconds);
  watch.max_failures = options_.on_failure == OnFailure::Stop ? options_.max_consecutive_failures : 1000000;
  WatchStats seen;
  auto note_stats = [&] {
    const WatchStats& now = watch.stats();
    std::lock_guard lock(mu_);
    stats_.restarts += (now.resumes - seen.resumes) + (now.relists - seen.relists);
    stats_.relists += now.relists - seen.relists;
    seen = now;
  };
  watch.run({[&](const std::vector<json>& items) {
               const std::vector<InformerChange> changes = reconcile(items);
               note_stats();
               synced_ = true;
               failing_ = false;
               deliver(changes);
               if (handlers_.on_synced) handlers_.on_synced();
               return !stop_.load();
             },
             [&](const WatchEvent& ev) {
               const std::vector<InformerChange> changes = apply(ev.type, ev.object);
               note_stats();
               deliver(changes);
               return !stop_.load();
             }},
            &stop_);
}

Informer::Entry Informer::make_entry(const json& object) const {
  Entry e;
  e.index_key = options_.index ? options_.index(object) : std::string();
  e.object = std::make_shared<const json>(options_.transform ? options_.transform(object) : object);
  return e;
}

void Informer::put_locked(const std::string& name, Entry entry) {
  auto it = store_.find(name);
  if (it != store_.end() && it->second.index_key != entry.index_key) {
    auto& names = index_[it->second.index_key];
    names.erase(name);
    if (names.empty()) index_.erase(it->second.index_key);
  }
  if (options_.index) index_[entry.index_key].insert(name);
  store_[name] = std::move(entry);
}

void Informer::erase_locked(const std::string& name) {
  auto it = store_.find(name);
  if (it == store_.end()) return;
  if (options_.index) {
    auto& names = index_[it->second.index_key];
    names.erase(name);
    if (names.empty()) index_.erase(it->second.index_key);
  }
  store_.erase(it);
}

std::vector<InformerChange> Informer::reconcile(const std::vector<json>& items) {
  // Transformed outside the lock: the readers need it far more often than a transform takes.
  std::map<std::string, Entry> fresh;
  for (const auto& item : items) {
    if (options_.keep && !options_.keep(item)) continue;
    std::string name = name_of(item);
    if (!name.empty()) fresh[std::move(name)] = make_entry(item);
  }
  std::vector<InformerChange> changes;
  std::lock_guard lock(mu_);
  for (auto it = store_.begin(); it != store_.end();) {
    if (fresh.count(it->first)) {
      ++it;
      continue;
    }
    // Gone while the watch was down.
    changes.push_back({ChangeKind::Deleted, it->first, it->second.index_key, it->second.object, true});
    const std::string name = (it++)->first;
    erase_locked(name);
  }
  for (auto& [name, entry] : fresh) {
    const ChangeKind kind = store_.count(name) ? ChangeKind::Modified : ChangeKind::Added;
    changes.push_back({kind, name, entry.index_key, entry.object, true});
    put_locked(name, std::move(entry));
  }
  return changes;
}

std::vector<InformerChange> Informer::apply(const std::string& type, const json& object) {
  const std::string name = name_of(object);
  if (name.empty()) return {};
  const bool deleted = type == "DELETED" || (options_.keep && !options_.keep(object));
  Entry entry;
  if (!deleted) entry = make_entry(object);
  std::lock_guard lock(mu_);
  auto it = store_.find(name);
  if (deleted) {
    if (it == store_.end()) return {};  // never kept, nothing to forget
    InformerChange c{ChangeKind::Deleted, name, it->second.index_key, it->second.object, false};
    erase_locked(name);
    return {c};
  }
  InformerChange c{it == store_.end() ? ChangeKind::Added : ChangeKind::Modified, name, entry.index_key, entry.object,
                   false};
  // A Job moved between index keys is also a change for the key it left.
  std::vector<InformerChange> changes;
  if (it != store_.end() && it->second.index_key != entry.index_key)
    changes.push_back({ChangeKind::Deleted, name, it->second.index_key, it->second.object, false});
  put_locked(name, std::move(entry));
  changes.push_back(std::move(c));
  return changes;
}

void Informer::deliver(const std::vector<InformerChange>& changes) const {
  if (!handlers_.on_change) return;
  for (const auto& c : changes) handlers_.on_change(c);
}

ObjectPtr Informer::get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = store_.find(name);
  return it == store_.end() ? nullptr : it->second.object;
}

std::vector<ObjectPtr> Informer::by_index(const std::string& key) const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = index_.find(key);
  if (it == index_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& name : it->second) out.push_back(store_.at(name).object);
  return out;
}

std::vector<ObjectPtr> Informer::list() const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(store_.size());
  for (const auto& [_, e] : store_) out.push_back(e.object);
  return out;
}

std::vector<std::string> Informer::names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(store_.size());
  for (const auto& [n, _] : store_) out.push_back(n);
  return out;
}

std::size_t Informer::size() const {
  std::lock_guard lock(mu_);
  return store_.size();
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string Informer::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace kjq::kube
