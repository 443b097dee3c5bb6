#pragma once
// Bounds for every JSON text kjq reads (API bodies, --data, manifests, API answers, watch events,
// stored rows). nlohmann's parser is iterative, but dumping, comparing and copying a value recurse
// once per level: a body nested 60,000 arrays deep is 120 KB and exhausts a thread's stack later,
// far from where it came in. So depth and size are checked on the text, before a value exists.
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace kjq {

struct JsonLimits {
  std::size_t max_bytes;
  int max_depth;
};

// What a person or Nautobot writes: job data, manifests, request bodies.
inline constexpr JsonLimits kInputJsonLimits{1024 * 1024, 100};
// What the API server sends: one object or watch event (etcd stores at most ~1.5 MiB per object;
// Kubernetes objects nest a few dozen levels at most).
inline constexpr JsonLimits kApiObjectJsonLimits{16 * 1024 * 1024, 256};
// A list answer holds many objects.
inline constexpr JsonLimits kApiListJsonLimits{512 * 1024 * 1024, 256};

// Why `text` breaks `limits` ("nested deeper than 100 levels (at byte 2001)", "2000000 bytes; at
// most 1048576 are accepted"), or nullopt. Linear, no allocation; brackets inside strings do not count.
std::optional<std::string> json_limit_violation(std::string_view text, const JsonLimits& limits);

}  // namespace kjq

namespace kjq {

// The first integer in `text` that JSON allows but a 64-bit integer cannot hold (e.g.
// 18446744073709551616): nlohmann would turn it into a float, so 2^64 + 1 reaches the job as
// 1.8446744073709552e+19. Returns "a.b[2]: the integer ... is outside ..." or nullopt. `root` names
// the value ("data"). Call it on text that passed json_limit_violation.
std::optional<std::string> json_inexact_integer(std::string_view text, const std::string& root);

// nlohmann's parse error without its "[json.exception.parse_error.101] " prefix.
std::string json_error_text(const std::exception& e);

}  // namespace kjq
