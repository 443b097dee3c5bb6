#include <gtest/gtest.h>

#include <set>
#include <string>

#include "nautobot/job_end.hpp"
#include "nautobot/job_result_writer.hpp"

namespace kjq::nautobot {
namespace {

using std::chrono::seconds;

TimePoint at(long long s) { return TimePoint(seconds(s)); }

JobEnd sample() {
  JobEnd end;
  end.job_result_id = "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f";
  end.ended_at = at(1782900000);
  end.reason = "OOMKilled";
  end.exit_code = 137;
  end.message = "container nautobot-job was killed: out of memory";
  end.events = {
      {"Warning", "BackOff", "Back-off restarting failed container", "pod/nautobot-job-0f1e-abcde", at(1782899990)},
      {"Normal", "Pulled", "Container image \"nautobot:3.1\" already present", "", std::nullopt}};
  end.log_tail = {"Running job", "Processing 10000 devices"};
  return end;
}

bool valid_utf8(const std::string& s) { return clean_text(s, s.size() + 64, LineBreaks::Keep) == s; }

TEST(JobEnd, EvidenceRowsInPageOrder) {
  const auto entries = evidence_entries(sample());
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(entries[0].level, "error");
  EXPECT_EQ(entries[0].message,
            "Kubernetes Job failed: `OOMKilled`, exit code 137: `container nautobot-job was killed: out of memory`");
  EXPECT_EQ(entries[1].level, "warning");
  EXPECT_EQ(entries[1].message,
            "Event Warning `BackOff` on `pod/nautobot-job-0f1e-abcde` at 2026-07-01T09:59:50.000000Z: "
            "`Back-off restarting failed container`");
  EXPECT_EQ(entries[2].level, "info");
  EXPECT_EQ(entries[2].message, "Event Normal `Pulled`: `Container image \"nautobot:3.1\" already present`");
  EXPECT_EQ(entries[3].message, "The last 2 lines of the job's log:");
  EXPECT_EQ(entries[4].message, "`Running job`");
  EXPECT_EQ(entries[5].message, "`Processing 10000 devices`");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].created, sample().ended_at + std::chrono::microseconds(i)) << i;
    if (i > 2) {
      EXPECT_EQ(entries[i].level, "info");
    }
  }
}

TEST(JobEnd, NoExitCodeNoMessageNoEvents) {
  JobEnd end;
  end.ended_at = at(0);
  end.reason = "Deleted";
  const auto entries = evidence_entries(end);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].message, "Kubernetes Job failed: `Deleted`");
  EXPECT_EQ(failure_traceback(end).find("Exit code"), std::string::npos);
}

TEST(JobEnd, TracebackIsShortPlainText) {
  const auto tb = failure_traceback(sample());
  EXPECT_EQ(tb.rfind(kTracebackMarker, 0), 0u);
  EXPECT_NE(tb.find("\nReason: OOMKilled\nExit code: 137\nMessage: container nautobot-job was killed"),
            std::string::npos)
      << tb;
  JobEnd huge = sample();
  huge.message = std::string(1 << 20, 'x');
  EXPECT_LE(failure_traceback(huge).size(), kMaxTracebackBytes);
}

TEST(JobEnd, CodeSpansSurviveBackticks) {
  EXPECT_EQ(code_span("a`b"), "``a`b``");
  EXPECT_EQ(code_span("`x`"), "`` `x` ``");
  EXPECT_EQ(code_span("a```b"), "````a```b````");
  EXPECT_EQ(code_span("a````b"), "`a''''b`");  // no fence grows with the input
  EXPECT_EQ(code_span("   "), "");
  EXPECT_EQ(code_span(""), "");
}

TEST(JobEnd, CleanTextStripsNulEscapesAndInvalidUtf8) {
  EXPECT_EQ(clean_text(std::string("a\0b", 3), 100), "ab");
  EXPECT_EQ(clean_text("\x1b[31mred\x1b[0m \x1b]0;title\a!", 100), "red !");
  EXPECT_EQ(clean_text("ok\xff\xc0\x80 \xed\xa0\x80", 100),
            "ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(clean_text("caf\xc3\xa9 \xf0\x9f\x92\xa5", 100), "caf\xc3\xa9 \xf0\x9f\x92\xa5");
  EXPECT_EQ(clean_text("a\r\nb\nc\rd\x07", 100), "a b c d ");
  EXPECT_EQ(clean_text("a\r\nb\nc", 100, LineBreaks::Keep), "a\nb\nc");
  EXPECT_EQ(clean_text("it's \"quoted\"; DROP TABLE x; --", 100), "it's \"quoted\"; DROP TABLE x; --");
}

TEST(JobEnd, LongTextIsCutAtACharacterBoundary) {
  std::string text;
  for (int i = 0; i < 400000; ++i) text += "\xc3\xa9";  // 800 000 bytes of é
  const auto cut = clean_text(text, 1000);
  EXPECT_LE(cut.size(), 1000u);
  EXPECT_TRUE(valid_utf8(cut));
  EXPECT_NE(cut.find(" bytes cut]"), std::string::npos);
  EXPECT_EQ(clean_text(std::string(1000, 'a'), 1000), std::string(1000, 'a'));
}

TEST(JobEnd, HostileEndStaysBounded) {
  JobEnd end = sample();
  end.message = std::string(1 << 20, 'm') + std::string("\0\xff", 2);
  end.reason = std::string(5000, '`');
  end.events.assign(kMaxEvents + 5, KubeEvent{"Warning", "X", std::string(100000, '`'), "", std::nullopt});
  end.log_tail.assign(kMaxLogLines + 3, std::string(20000, 'l'));
  const auto entries = evidence_entries(end);
  EXPECT_EQ(entries.size(), 1 + 1 + kMaxEvents + 1 + kMaxLogLines);
  EXPECT_EQ(entries[1].message, "5 earlier Kubernetes Events left out");
  EXPECT_EQ(entries[2 + kMaxEvents].message, "The last 1000 lines of the job's log (3 earlier lines left out):");
  for (const auto& e : entries) {
    EXPECT_LE(e.message.size(), kMaxMessageBytes);
    EXPECT_EQ(e.message.find('\0'), std::string::npos);
    EXPECT_TRUE(valid_utf8(e.message));
  }
}

TEST(JobEnd, Uuids) {
  EXPECT_EQ(canonical_uuid("0F1E2D3C-4B5A-4697-8879-6A5B4C3D2E1F"), "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f");
  EXPECT_FALSE(canonical_uuid("0f1e2d3c4b5a469788796a5b4c3d2e1f"));
  EXPECT_FALSE(canonical_uuid("0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1g"));
  EXPECT_FALSE(canonical_uuid("'; DROP TABLE extras_jobresult; --"));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_uuid4();
    ASSERT_EQ(canonical_uuid(id), id);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(JobEnd, FormatUtc) {
  EXPECT_EQ(format_utc(at(0) + std::chrono::milliseconds(1500)), "1970-01-01T00:00:01.500000Z");
  EXPECT_EQ(format_utc(at(-1) + std::chrono::microseconds(1)), "1969-12-31T23:59:59.000001Z");
}

TEST(JobEnd, SqlstateClasses) {
  for (const auto* s : {"", "40001", "40P01", "08006", "08001", "57P01", "57014", "53300", "28P01", "55P03", "25006"}) {
    EXPECT_EQ(classify_sqlstate(s), ErrorClass::Retryable) << s;
  }
  for (const auto* s : {"42P01", "42703", "3F000"}) EXPECT_EQ(classify_sqlstate(s), ErrorClass::Schema) << s;
  for (const auto* s : {"23505", "22P02", "23514"}) EXPECT_EQ(classify_sqlstate(s), ErrorClass::Other) << s;
}

}  // namespace
}  // namespace kjq::nautobot
