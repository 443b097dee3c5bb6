#pragma once
// Text both stores can hold alike. SQLite keeps any bytes in a TEXT column, but PostgreSQL (UTF8
// database) refuses invalid UTF-8 and libpq cuts a text parameter at its first NUL byte, so the
// same string could come back whole from one store and cut short, or refused, by the other. Both
// stores therefore check (or clean) such text the same way before binding it.
#include <string>

namespace kjq::server {

// True when `text` is valid UTF-8 without a NUL byte.
bool is_storable_text(const std::string& text);

// `text` with every NUL byte and every invalid UTF-8 sequence replaced by U+FFFD (for messages
// that must be stored whatever they hold, such as a write-back's last error).
std::string storable_text(const std::string& text);

}  // namespace kjq::server
