// GET /metrics (ServeMetrics::scrape): Prometheus text exposition with the metrics docs/api.md
// documents, gauges from the store per queue and state, external counters that never go back.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/serve_metrics.hpp"
#include "support/test_support.hpp"

namespace {

using kjq::server::ExternalCounts;
using kjq::server::QueueCounts;
using kjq::server::ServeMetrics;

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// A parsed exposition. parse() records every violation of the text format 0.0.4 it finds.
struct Exposition {
  std::map<std::string, std::string> types;  // family → counter, gauge, histogram, summary, untyped
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;
  std::vector<std::string> problems;

  // The family a sample belongs to (histogram and summary series have suffixes).
  std::optional<std::string> family_of(const std::string& sample) const {
    if (types.count(sample)) return sample;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
        const std::string base = sample.substr(0, sample.size() - s.size());
        auto it = types.find(base);
        if (it != types.end() && (it->second == "histogram" || (it->second == "summary" && s != "_bucket")))
          return base;
      }
    }
    return std::nullopt;
  }

  std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }

  std::vector<Sample> series(const std::string& name) const {
    std::vector<Sample> out;
    for (const auto& s : samples)
      if (s.name == name) out.push_back(s);
    return out;
  }
};

bool is_metric_name(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_label_name(const std::string& s) { return is_metric_name(s) && s.find(':') == std::string::npos; }

// One sample line: name, optional {labels}, value, optional timestamp. False when malformed.
bool parse_sample(const std::string& line, Sample& s, std::string& value) {
  std::size_t i = line.find_first_of("{ ");
  if (i == std::string::npos) return false;
  s.name = line.substr(0, i);
  if (!is_metric_name(s.name)) return false;
  if (line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t eq = line.find('=', i);
      if (eq == std::string::npos) return false;
      const std::string key = line.substr(i, eq - i);
      if (!is_label_name(key) || s.labels.count(key) || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      std::string v;
      std::size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\') {
          if (++j >= line.size()) return false;
          if (line[j] == 'n')
            v += '\n';
          else if (line[j] == '\\' || line[j] == '"')
            v += line[j];
          else
            return false;
        } else {
          v += line[j];
        }
      }
      if (j >= line.size()) return false;  // unterminated value
      s.labels[key] = v;
      i = j + 1;
      if (i < line.size() && line[i] == ',')
        ++i;
      else if (i >= line.size() || line[i] != '}')
        return false;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return false;
  const std::string rest = line.substr(i + 1);
  const std::size_t sp = rest.find(' ');
  value = rest.substr(0, sp);
  if (value.empty()) return false;
  if (sp != std::string::npos) {  // a timestamp: an integer
    const std::string ts = rest.substr(sp + 1);
    if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos) return false;
  }
  return true;
}

Exposition parse(const std::string& text) {
  static const std::set<std::string> kinds = {"counter", "gauge", "histogram", "summary", "untyped"};
  Exposition e;
  if (text.empty() || text.back() != '\n') e.problems.push_back("the exposition does not end with a line feed");
  std::istringstream in(text);
  std::string line;
  std::set<std::string> sampled;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      const bool is_help = line.rfind("# HELP ", 0) == 0, is_type = line.rfind("# TYPE ", 0) == 0;
      if (!is_help && !is_type) continue;  // a plain comment
      const std::string rest = line.substr(7);
      const std::size_t sp = rest.find(' ');
      const std::string name = rest.substr(0, sp);
      const std::string arg = sp == std::string::npos ? "" : rest.substr(sp + 1);
      if (!is_metric_name(name) || sp == std::string::npos) {
        e.problems.push_back("malformed: " + line);
      } else if (is_help) {
        e.help[name] = arg;
      } else if (!kinds.count(arg)) {
        e.problems.push_back("unknown type: " + line);
      } else {
        if (e.types.count(name)) e.problems.push_back("two TYPE lines for " + name);
        if (sampled.count(name)) e.problems.push_back("TYPE after samples of " + name);
        e.types[name] = arg;
      }
      continue;
    }
    Sample s;
    std::string v;
    if (!parse_sample(line, s, v)) {
      e.problems.push_back("malformed sample: " + line);
      continue;
    }
    if (v == "+Inf") {
      s.value = INFINITY;
    } else if (v == "-Inf") {
      s.value = -INFINITY;
    } else if (v == "NaN") {
      s.value = NAN;
    } else {
      std::size_t used = 0;
      try {
        s.value = std::stod(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size()) e.problems.push_back("bad value: " + line);
    }
    auto family = e.family_of(s.name);
    if (!family)
      e.problems.push_back("sample without a TYPE: " + line);
    else
      sampled.insert(*family);
    e.samples.push_back(std::move(s));
  }
  return e;
}

// The metrics table of docs/api.md (section "GET /metrics"): name → type, from rows such as
// "| `kjq_serve_jobs` | gauge | `queue`, `state` | ... |".
std::map<std::string, std::string> documented_metrics() {
  const std::string doc = kjq::test::read_text(std::string(KJQ_SOURCE_DIR) + "/docs/api.md");
  const auto start = doc.find("## `GET /metrics`");
  if (start == std::string::npos) return {};
  const auto end = doc.find("\n## ", start + 1);
  std::istringstream in(doc.substr(start, end == std::string::npos ? std::string::npos : end - start));
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `kjq_", 0) != 0) continue;
    const std::size_t close = line.find('`', 3);
    if (close == std::string::npos || line.compare(close, 4, "` | ") != 0) continue;
    const std::size_t type_end = line.find(" |", close + 4);
    if (type_end == std::string::npos) continue;
    out[line.substr(3, close - 3)] = line.substr(close + 4, type_end - close - 4);
  }
  return out;
}

QueueCounts counts(const std::string& queue, std::int64_t queued, std::int64_t submitted, std::int64_t scheduled,
                   std::int64_t running, std::int64_t succeeded, std::int64_t failed, std::int64_t cancelled) {
  QueueCounts c;
  c.queue = queue;
  c.queued = queued;
  c.submitted = submitted;
  c.scheduled = scheduled;
  c.running = running;
  c.succeeded = succeeded;
  c.failed = failed;
  c.cancelled = cancelled;
  return c;
}

ExternalCounts external(long base) {
  // Distinct values per field, so a counter wired to the wrong field shows.
  ExternalCounts x;
  x.api_requests = base + 1;
  x.api_retries = base + 2;
  x.api_throttled = base + 3;
  x.token_reloads = base + 4;
  x.job_watch_restarts = base + 5;
  x.pod_watch_restarts = base + 6;
  x.relists = base + 7;
  x.watch_failures = base + 8;
  x.tls_reloads = base + 9;
  x.tls_reload_failures = base + 10;
  x.tls_handshake_failures = base + 11;
  return x;
}

std::string problems_of(const Exposition& e) {
  std::string out;
  for (const auto& p : e.problems) out += p + "\n";
  return out;
}

}  // namespace

TEST(ServeMetrics, TheTestsParserRejectsWhatIsNotTheTextFormat) {
  // The validity checks below mean something only if the parser finds problems.
  EXPECT_TRUE(parse("# TYPE a counter\na{x=\"1\",y=\"q\\\"\"} 2\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n")
                  .problems.empty());
  EXPECT_FALSE(parse("a 1\n").problems.empty());                                    // no TYPE
  EXPECT_FALSE(parse("# TYPE a counter\na 1").problems.empty());                    // no final line feed
  EXPECT_FALSE(parse("# TYPE a counter\na{x=\"1\" 2\n").problems.empty());          // unclosed labels
  EXPECT_FALSE(parse("# TYPE a counter\na{x=1} 2\n").problems.empty());             // unquoted value
  EXPECT_FALSE(parse("# TYPE a counter\na two\n").problems.empty());                // not a number
  EXPECT_FALSE(parse("# TYPE a countr\na 1\n").problems.empty());                   // unknown type
  EXPECT_FALSE(parse("a 1\n# TYPE a counter\n").problems.empty());                  // TYPE after the sample
  EXPECT_FALSE(parse("# TYPE a counter\n# TYPE a gauge\na 1\n").problems.empty());  // two TYPEs
  EXPECT_FALSE(parse("# TYPE 1a counter\n1a 1\n").problems.empty());                // bad name
}

TEST(ServeMetrics, TheExpositionIsValidAndHasEveryDocumentedMetric) {
  const auto documented = documented_metrics();
  ASSERT_GE(documented.size(), 14u) << "the metrics table of docs/api.md was not found";
  ServeMetrics metrics;
  const Exposition e = parse(metrics.scrape({counts("default", 1, 0, 0, 0, 0, 0, 0)}, {{"default", 2}}, {}));
  EXPECT_TRUE(e.problems.empty()) << problems_of(e);
  for (const auto& [name, type] : documented) {
    auto it = e.types.find(name);
    ASSERT_NE(it, e.types.end()) << name << " is documented but not exported";
    EXPECT_EQ(it->second, type) << name;
    EXPECT_TRUE(e.help.count(name) && !e.help.at(name).empty()) << name << " has no HELP";
  }
}

TEST(ServeMetrics, EveryExportedMetricIsDocumented) {
  const auto documented = documented_metrics();
  ServeMetrics metrics;
  const Exposition e = parse(metrics.scrape({}, {}, {}));
  for (const auto& [name, type] : e.types)
    if (name.rfind("kjq_", 0) == 0) {
      EXPECT_TRUE(documented.count(name)) << name << " (" << type << ") is not in docs/api.md";
    }
}

TEST(ServeMetrics, StoreGaugesPerQueueAndState) {
  ServeMetrics metrics;
  const Exposition e =
      parse(metrics.scrape({counts("default", 3, 1, 2, 4, 5, 6, 7), counts("reports", 9, 0, 0, 0, 0, 0, 0)},
                           {{"default", 2}, {"reports", 0}}, {}));
  ASSERT_TRUE(e.problems.empty()) << problems_of(e);
  const std::pair<const char*, double> want[] = {{"Queued", 3},    {"Submitted", 1}, {"Scheduled", 2}, {"Running", 4},
                                                 {"Succeeded", 5}, {"Failed", 6},    {"Cancelled", 7}};
  for (const auto& [state, n] : want) {
    EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "default"}, {"state", state}}), n) << state;
    EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "reports"}, {"state", state}}),
              std::string(state) == "Queued" ? 9 : 0)
        << state;  // all seven states per queue, zeros too
  }
  EXPECT_EQ(e.series("kjq_serve_jobs").size(), 14u);
  EXPECT_EQ(e.value("kjq_serve_queue_depth", {{"queue", "default"}}), 3);
  EXPECT_EQ(e.value("kjq_serve_queue_depth", {{"queue", "reports"}}), 9);
  EXPECT_EQ(e.series("kjq_serve_queue_depth").size(), 2u);
  EXPECT_EQ(e.value("kjq_serve_queue_limit", {{"queue", "default"}}), 2);
  EXPECT_EQ(e.value("kjq_serve_queue_limit", {{"queue", "reports"}}), 0);
  EXPECT_EQ(e.series("kjq_serve_queue_limit").size(), 2u);
}

TEST(ServeMetrics, StoreGaugesFollowTheStoreBothWays) {
  ServeMetrics metrics;
  metrics.scrape({counts("default", 10, 2, 0, 3, 1, 0, 0)}, {{"default", 5}}, {});
  const Exposition e = parse(metrics.scrape({counts("default", 4, 1, 0, 0, 12, 0, 0)}, {{"default", 1}}, {}));
  EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "default"}, {"state", "Queued"}}), 4);
  EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "default"}, {"state", "Running"}}), 0);
  EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "default"}, {"state", "Succeeded"}}), 12);
  EXPECT_EQ(e.value("kjq_serve_queue_depth", {{"queue", "default"}}), 4);
  EXPECT_EQ(e.value("kjq_serve_queue_limit", {{"queue", "default"}}), 1);
}

TEST(ServeMetrics, AQueueWhoseRecordsWereAllPrunedReadsZero) {
  ServeMetrics metrics;
  metrics.scrape({counts("old", 0, 0, 0, 0, 40, 2, 1), counts("default", 1, 0, 0, 0, 0, 0, 0)}, {}, {});
  const Exposition e = parse(metrics.scrape({counts("default", 1, 0, 0, 0, 0, 0, 0)}, {}, {}));
  EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "old"}, {"state", "Succeeded"}}), 0);
  EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "old"}, {"state", "Failed"}}), 0);
  EXPECT_EQ(e.value("kjq_serve_queue_depth", {{"queue", "old"}}), 0);
  EXPECT_EQ(e.value("kjq_serve_jobs", {{"queue", "default"}, {"state", "Queued"}}), 1);
}

TEST(ServeMetrics, ExternalCountersAreCopiedToTheirMetrics) {
  ServeMetrics metrics;
  const Exposition e = parse(metrics.scrape({}, {}, external(100)));
  ASSERT_TRUE(e.problems.empty()) << problems_of(e);
  EXPECT_EQ(e.value("kjq_serve_api_requests_total"), 101);
  EXPECT_EQ(e.value("kjq_serve_api_retries_total"), 102);
  EXPECT_EQ(e.value("kjq_serve_api_throttle_waits_total"), 103);
  EXPECT_EQ(e.value("kjq_serve_token_reloads_total"), 104);
  EXPECT_EQ(e.value("kjq_serve_watch_restarts_total", {{"resource", "jobs"}}), 105);
  EXPECT_EQ(e.value("kjq_serve_watch_restarts_total", {{"resource", "pods"}}), 106);
  EXPECT_EQ(e.value("kjq_serve_watch_relists_total"), 107);
  EXPECT_EQ(e.value("kjq_serve_watch_failures_total"), 108);
  EXPECT_EQ(e.value("kjq_serve_tls_reloads_total"), 109);
  EXPECT_EQ(e.value("kjq_serve_tls_reload_failures_total"), 110);
  EXPECT_EQ(e.value("kjq_serve_tls_handshake_failures_total"), 111);
}

TEST(ServeMetrics, ExternalCountersOnlyEverIncrease) {
  ServeMetrics metrics;
  ExternalCounts x;
  x.api_requests = 5;
  x.job_watch_restarts = 5;
  metrics.scrape({}, {}, x);
  x.api_requests = 3;  // the source went back (a client was replaced): the counter must not
  x.job_watch_restarts = 3;
  Exposition e = parse(metrics.scrape({}, {}, x));
  EXPECT_EQ(e.value("kjq_serve_api_requests_total"), 5);
  EXPECT_EQ(e.value("kjq_serve_watch_restarts_total", {{"resource", "jobs"}}), 5);
  x.api_requests = 8;
  x.job_watch_restarts = 9;
  e = parse(metrics.scrape({}, {}, x));
  EXPECT_EQ(e.value("kjq_serve_api_requests_total"), 8);
  EXPECT_EQ(e.value("kjq_serve_watch_restarts_total", {{"resource", "jobs"}}), 9);
  // Scraping the same values again adds nothing.
  e = parse(metrics.scrape({}, {}, x));
  EXPECT_EQ(e.value("kjq_serve_api_requests_total"), 8);
}

TEST(ServeMetrics, OwnCountersCount) {
  ServeMetrics metrics;
  metrics.count_submitted(3);
  metrics.count_submitted(1);
  metrics.count_create_failure();
  metrics.count_create_failure();
  metrics.count_reconcile();
  metrics.count_pruned(200);
  metrics.count_pruned(7);
  metrics.count_prune_error();
  const Exposition e = parse(metrics.scrape({}, {}, {}));
  EXPECT_EQ(e.value("kjq_serve_pruned_jobs_total"), 207);
  EXPECT_EQ(e.value("kjq_serve_prune_errors_total"), 1);
  EXPECT_EQ(e.value("kjq_serve_jobs_submitted_total"), 4);
  EXPECT_EQ(e.value("kjq_serve_job_create_failures_total"), 2);
  EXPECT_EQ(e.value("kjq_serve_reconciles_total"), 1);
}

TEST(ServeMetrics, HistogramsHaveTheDocumentedBuckets) {
  ServeMetrics metrics;
  for (double s : {0.003, 0.2, 0.2, 12.0}) metrics.observe_submit_to_create(s);
  metrics.observe_event_to_record(0.0005);
  const Exposition e = parse(metrics.scrape({}, {}, {}));
  ASSERT_TRUE(e.problems.empty()) << problems_of(e);

  const std::vector<std::string> les = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                        "0.5",   "1",      "2.5",   "5",    "10",    "30",   "+Inf"};
  const std::vector<double> cumulative = {0, 0, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 4, 4};
  std::vector<Sample> buckets = e.series("kjq_serve_submit_to_create_seconds_bucket");
  ASSERT_EQ(buckets.size(), les.size());
  for (std::size_t i = 0; i < les.size(); ++i) {
    ASSERT_EQ(buckets[i].labels.count("le"), 1u);
    EXPECT_DOUBLE_EQ(buckets[i].labels.at("le") == "+Inf" ? INFINITY : std::stod(buckets[i].labels.at("le")),
                     les[i] == "+Inf" ? INFINITY : std::stod(les[i]));
    EXPECT_EQ(buckets[i].value, cumulative[i]) << "le=" << les[i];
  }
  EXPECT_EQ(e.value("kjq_serve_submit_to_create_seconds_count"), 4);
  EXPECT_NEAR(*e.value("kjq_serve_submit_to_create_seconds_sum"), 12.403, 1e-9);

  EXPECT_EQ(e.value("kjq_serve_event_to_record_seconds_count"), 1);
  EXPECT_EQ(e.value("kjq_serve_event_to_record_seconds_bucket", {{"le", "0.001"}}), 1);
  EXPECT_EQ(e.value("kjq_serve_event_to_record_seconds_bucket", {{"le", "+Inf"}}), 1);
}

TEST(ServeMetrics, QuantilesAreThereAfterObservations) {
  ServeMetrics metrics;
  for (int i = 1; i <= 100; ++i) metrics.observe_submit_to_create(i / 100.0);  // 0.01 .. 1.00
  metrics.observe_event_to_record(0.25);
  const Exposition e = parse(metrics.scrape({}, {}, {}));
  ASSERT_TRUE(e.problems.empty()) << problems_of(e);
  EXPECT_EQ(e.types.at("kjq_serve_submit_to_create_quantiles_seconds"), "summary");
  const auto p50 = e.value("kjq_serve_submit_to_create_quantiles_seconds", {{"quantile", "0.5"}});
  const auto p90 = e.value("kjq_serve_submit_to_create_quantiles_seconds", {{"quantile", "0.9"}});
  const auto p99 = e.value("kjq_serve_submit_to_create_quantiles_seconds", {{"quantile", "0.99"}});
  ASSERT_TRUE(p50 && p90 && p99);
  EXPECT_NEAR(*p50, 0.50, 0.03);
  EXPECT_NEAR(*p90, 0.90, 0.03);
  EXPECT_NEAR(*p99, 0.99, 0.03);
  EXPECT_EQ(e.value("kjq_serve_submit_to_create_quantiles_seconds_count"), 100);
  EXPECT_NEAR(*e.value("kjq_serve_submit_to_create_quantiles_seconds_sum"), 50.5, 1e-9);
  EXPECT_EQ(e.value("kjq_serve_event_to_record_quantiles_seconds", {{"quantile", "0.5"}}), 0.25);
  EXPECT_EQ(e.value("kjq_serve_event_to_record_quantiles_seconds_count"), 1);
}

TEST(ServeMetrics, ConcurrentScrapesAndObservationsAgree) {
  ServeMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 200; ++i) {
        metrics.observe_event_to_record(0.01);
        metrics.count_submitted(1);
        metrics.scrape({counts("q" + std::to_string(t), i, 0, 0, 0, 0, 0, 0)}, {}, external(i));
      }
    });
  for (auto& th : threads) th.join();
  // A scrape's counts are the whole store: here, each thread's queue at its last value.
  std::vector<QueueCounts> last;
  for (int t = 0; t < 4; ++t) last.push_back(counts("q" + std::to_string(t), 199, 0, 0, 0, 0, 0, 0));
  const Exposition e = parse(metrics.scrape(last, {}, {}));
  ASSERT_TRUE(e.problems.empty()) << problems_of(e);
  EXPECT_EQ(e.value("kjq_serve_jobs_submitted_total"), 800);
  EXPECT_EQ(e.value("kjq_serve_event_to_record_seconds_count"), 800);
  EXPECT_EQ(e.value("kjq_serve_api_requests_total"), 200);  // the largest value seen: 199 + 1
  for (int t = 0; t < 4; ++t) EXPECT_EQ(e.value("kjq_serve_queue_depth", {{"queue", "q" + std::to_string(t)}}), 199);
}
