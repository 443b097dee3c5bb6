#include "nautobot/job_end.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "util/diagnostic.hpp"
#include "util/utf8.hpp"

namespace kjq::nautobot {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::size_t kMaxFence = 4;                       // backticks around a code span

// Skips the escape sequence starting at s[i] (ESC); returns the index after it.
std::size_t skip_escape(std::string_view s, std::size_t i) {
  ++i;
  if (i >= s.size()) return i;
  if (s[i] == '[') {  // CSI: parameters and intermediates, then one final byte 0x40–0x7E
    for (++i; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x40 && c <= 0x7E) return i + 1;
      if (c < 0x20 || c > 0x3F) return i;  // malformed: stop before what is not part of it
    }
    return i;
  }
  if (s[i] == ']') {  // OSC: up to BEL or ESC backslash
    for (++i; i < s.size(); ++i) {
      if (s[i] == '\a') return i + 1;
      if (s[i] == '\x1b') return i + 1 < s.size() && s[i + 1] == '\\' ? i + 2 : i + 1;
    }
    return i;
  }
  return i + 1;  // a two-byte escape (ESC c, ESC 7, …)
}

std::string cleaned_line(std::string_view text, std::size_t max_bytes) {
  return clean_text(text, max_bytes, LineBreaks::ToSpaces);
}

// Whitespace only (or nothing).
bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

std::string clean_text(std::string_view text, std::size_t max_bytes, LineBreaks line_breaks) {
  const bool keep_newlines = line_breaks == LineBreaks::Keep;
  std::string out;
  out.reserve(std::min(text.size(), max_bytes + 64));
  // Past this much output nothing more is kept; cleaning goes on only to count what is cut.
  const std::size_t keep_limit = max_bytes + 4;
  std::size_t cleaned_size = 0;
  auto append = [&](std::string_view piece) {
    cleaned_size += piece.size();
    if (out.size() < keep_limit) out.append(piece);
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b) {
      i = skip_escape(text, i);
    } else if (c == '\0') {
      ++i;
    } else if (c == '\r') {
      const bool crlf = i + 1 < text.size() && text[i + 1] == '\n';
      if (!crlf) append(keep_newlines ? "\n" : " ");
      ++i;
    } else if (c == '\n') {
      append(keep_newlines ? "\n" : " ");
      ++i;
    } else if (c == '\t' || (c >= 0x20 && c < 0x7F)) {
      append(std::string_view(&text[i], 1));
      ++i;
    } else if (c < 0x80) {  // other C0 controls and DEL
      append(" ");
      ++i;
    } else if (const auto n = utf8::sequence_length(text, i); n > 0) {
      append(text.substr(i, n));
      i += n;
    } else {
      append(kReplacement);
      ++i;
    }
  }
  if (cleaned_size <= max_bytes) return out;
  // Cut so that the text and the note fit in max_bytes, at the start of a character.
  const auto note_for = [](std::size_t cut) { return " … [" + std::to_string(cut) + " bytes cut]"; };
  std::size_t keep = max_bytes > 32 ? max_bytes - 32 : 0;
  while (keep > 0 && utf8::is_continuation_byte(out[keep])) --keep;
  out.resize(keep);
  out += note_for(cleaned_size - keep);
  return out;
}

std::string code_span(std::string_view text) {
  if (blank(text)) return {};
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string content(text);
  if (longest >= kMaxFence) {
    // A fence as long as the longest run would make the message grow without bound; such text
    // keeps its size with each backtick shown as an apostrophe instead.
    std::replace(content.begin(), content.end(), '`', '\'');
    longest = 0;
  }
  const std::string fence(longest + 1, '`');
  // A space between fence and content when the content starts or ends with a backtick; both
  // CommonMark and Python-Markdown (Nautobot's renderer) drop it again.
  const bool pad = content.front() == '`' || content.back() == '`';
  std::string out = fence;
  if (pad) out += ' ';
  out.append(content);
  if (pad) out += ' ';
  out += fence;
  return out;
}

std::string format_utc(TimePoint time) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  auto seconds = micros / 1000000;
  auto fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(fraction));
  return buffer.data();
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const auto c = static_cast<unsigned char>(out[i]);
    if (dash) {
      if (c != '-') return std::nullopt;
    } else if (std::isxdigit(c)) {
      out[i] = static_cast<char>(std::tolower(c));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string new_uuid4() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw RuntimeError("cannot generate a uuid: OpenSSL's random generator failed");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static const char* const digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0x0F];
  }
  return out;
}

std::string failure_traceback(const JobEnd& end) {
  std::string out(kTracebackMarker);
  out += "\nReason: " + (end.reason.empty() ? std::string("unknown") : cleaned_line(end.reason, 256));
  if (end.exit_code) out += "\nExit code: " + std::to_string(*end.exit_code);
  if (!blank(end.message)) {
    out += "\nMessage: " + clean_text(end.message, kMaxTracebackBytes - 1024, LineBreaks::Keep);
  }
  out +=
      "\nThe Job's pod ended before Nautobot could record a result. The log entries of grouping"
      " \"kubernetes\" show the Job's Events and the end of its log.";
  return clean_text(out, kMaxTracebackBytes, LineBreaks::Keep);
}

std::vector<LogEntry> evidence_entries(const JobEnd& end) {
  std::vector<LogEntry> out;
  auto add = [&](std::string level, const std::string& message) {
    const auto created = end.ended_at + std::chrono::microseconds(static_cast<std::int64_t>(out.size()));
    // The message is built from cleaned pieces; the final bound covers the words around them.
    out.push_back(LogEntry{std::move(level), clean_text(message, kMaxMessageBytes, LineBreaks::ToSpaces), created});
  };
  // Room for the words kjq puts around a text from outside.
  constexpr std::size_t kPieceBytes = kMaxMessageBytes - 1024;

  std::string summary = "Kubernetes Job failed: " +
                        code_span(end.reason.empty() ? std::string("unknown") : cleaned_line(end.reason, 256));
  if (end.exit_code) summary += ", exit code " + std::to_string(*end.exit_code);
  if (const auto message = cleaned_line(end.message, kPieceBytes); !blank(message)) {
    summary += ": " + code_span(message);
  }
  add("error", summary);

  const std::size_t first_event = end.events.size() > kMaxEvents ? end.events.size() - kMaxEvents : 0;
  if (first_event > 0) add("info", std::to_string(first_event) + " earlier Kubernetes Events left out");
  for (std::size_t i = first_event; i < end.events.size(); ++i) {
    const auto& e = end.events[i];
    const bool warning = e.type == "Warning";
    std::string text = "Event ";
    if (warning || e.type == "Normal") {
      text += e.type;
    } else {
      text += code_span(cleaned_line(e.type.empty() ? std::string("(no type)") : e.type, 64));
    }
    if (!blank(e.reason)) text += " " + code_span(cleaned_line(e.reason, 256));
    if (!blank(e.object)) text += " on " + code_span(cleaned_line(e.object, 512));
    if (e.time) text += " at " + format_utc(*e.time);
    if (const auto message = cleaned_line(e.message, kPieceBytes); !blank(message)) text += ": " + code_span(message);
    add(warning ? "warning" : "info", text);
  }

  if (!end.log_tail.empty()) {
    const std::size_t first_line = end.log_tail.size() > kMaxLogLines ? end.log_tail.size() - kMaxLogLines : 0;
    const auto kept = end.log_tail.size() - first_line;
    std::string header = "The last " + std::to_string(kept) + (kept == 1 ? " line" : " lines") + " of the job's log";
    if (first_line > 0) header += " (" + std::to_string(first_line) + " earlier lines left out)";
    add("info", header + ":");
    for (std::size_t i = first_line; i < end.log_tail.size(); ++i) {
      add("info", code_span(cleaned_line(end.log_tail[i], kPieceBytes)));
    }
  }
  return out;
}

}  // namespace kjq::nautobot
