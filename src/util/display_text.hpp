#pragma once
// Text that came from outside (queue names, values, paths, API bodies) shown in a log line or an
// error message. Raw control characters would let it forge lines ("\n2026-01-01 [info] ...") or
// rewrite the terminal (CR, ESC); bidi overrides (U+202E) would show it reversed. So each of those,
// and every byte that is not UTF-8, is shown escaped: "\n", "\r", "\t", "\x1b", "\u202e".
#include <string>
#include <string_view>

namespace kjq {

enum class Newlines { Escape, Keep };

std::string display_text(std::string_view text, Newlines newlines = Newlines::Escape);

}  // namespace kjq
