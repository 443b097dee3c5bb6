#pragma once
// The query of GET /api/v1/jobs (docs/api.md): its parameters checked and turned into a
// JobFilter, the opaque cursor, and RFC 3339 times. Separate from the routes so tests reach every
// rule without a server.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/store/job_record.hpp"

namespace kjq::server {

struct ListQuery {
  JobFilter filter;
  std::string error;  // "" when valid; else "<parameter>: <what was expected>"
};

// `params` as decoded from the URL, in order. A parameter given twice, or one not in the API,
// is an error (a misspelt filter would otherwise silently list everything).
ListQuery parse_list_query(const std::vector<std::pair<std::string, std::string>>& params);

// The cursor of the page after the one that ended at `seq` in `order`: opaque to clients.
std::string encode_list_cursor(ListOrder order, std::int64_t seq);
// The seq a cursor continues after; nullopt when it is not a cursor of `order`. A plain decimal
// integer is accepted for oldest-first: the cursor kjq gave out before it had orders.
std::optional<std::int64_t> decode_list_cursor(const std::string& cursor, ListOrder order);

// "2026-11-27T10:15:02.417Z" or "...+02:00" → milliseconds since the epoch (UTC). Strict:
// a full date and time, seconds required, fraction optional (cut to milliseconds), 'Z' or an
// offset required. nullopt for anything else, including impossible dates (February 30).
std::optional<std::int64_t> parse_rfc3339_ms(const std::string& text);

}  // namespace kjq::server
