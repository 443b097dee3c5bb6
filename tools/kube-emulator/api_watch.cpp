// Watch streams: resume from a resourceVersion, streaming lists (sendInitialEvents and the
// k8s.io/initial-events-end bookmark), selector transitions, bookmarks, 410, Tables per event.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include "api_request.hpp"
#include "api_server.hpp"
#include "api_status.hpp"
#include "selectors.hpp"
#include "table_convertor.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {

uint64_t parse_rv(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19)
    throw bad_request("invalid resource version: \"" + text + "\"");
  return std::stoull(text);
}

void append_event_line(std::string& out, const char* type, const std::string& object_text) {
  out += "{\"type\":\"";
  out += type;
  out += "\",\"object\":";
  out += object_text;
  out += "}\n";
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
    causes.push_back(forbidden_cause("resourceVersionMatch",
                                     "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
  if (!o.match.empty()) {
    if (!o.send_initial_events)
      causes.push_back(forbidden_cause(
          "resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
    if (o.match != "NotOlderThan")
      causes.push_back({"FieldValueNotSupported",
                        "Unsupported value: \"" + o.match + "\": supported values: \"NotOlderThan\"",
                        "resourceVersionMatch"});
    if (!req.get_param_value("continue").empty())
      causes.push_back(
          forbidden_cause("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
  }
  if (!causes.empty()) throw invalid("ListOptions", "meta.k8s.io", "", causes);
  return o;
}

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
  auto table = std::make_shared<TableOptions>(make_table_options(table_version, req.get_param_value("includeObject")));
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
    append_event_line(
        line, event_type,
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
        ApiError e(
            504, "Timeout",
            "Timeout: Too large resource version: " + rv_param + ", current: " + std::to_string(store_.current_rv()),
            json{{"causes",
                  json::array({{{"reason", "ResourceVersionTooLarge"}, {"message", "Too large resource version"}}})},
                 {"retryAfterSeconds", 1}});
        e.retry_after_seconds = 1;
        throw e;
      }
    }
    auto snapshot = store_.list(t, info.ns, filter);
    for (const auto& item : snapshot.items) st->pending.push_back(event_line("ADDED", *item));
    st->last_rv = snapshot.rv;
    if (bookmarks) {
      json bm = {{"kind", t.kind},
                 {"apiVersion", t.api_version()},
                 {"metadata",
                  {{"resourceVersion", std::to_string(snapshot.rv)},
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
  res.set_chunked_content_provider(table_version.empty() ? "application/json" : table_content_type(table_version),
                                   [this, st, type, ns, filter, bookmarks, bookmark_every, drop_after, event_line](
                                       std::size_t, httplib::DataSink& sink) {
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
                                       append_event_line(
                                           line, "ERROR",
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
                                       if (e.type == "ADDED")
                                         type_name = now_match ? "ADDED" : nullptr;
                                       else if (e.type == "DELETED")
                                         type_name = (was_match || (!e.previous && now_match)) ? "DELETED" : nullptr;
                                       else if (now_match && was_match)
                                         type_name = "MODIFIED";
                                       else if (now_match)
                                         type_name = "ADDED";
                                       else if (was_match)
                                         type_name = "DELETED";
                                       if (!type_name) continue;
                                       st->pending.push_back(event_line(type_name, obj));
                                     }
                                     st->last_rv = std::max(st->last_rv, h.rv);
                                     if (!st->pending.empty()) return true;
                                     if (bookmarks && now >= st->next_bookmark) {
                                       json bm = {{"kind", type->kind},
                                                  {"apiVersion", type->api_version()},
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

}  // namespace kjq::emulator
