#pragma once
// Writes that are never seen half-done: content goes to a temporary file in the same directory,
// is flushed to disk, then renamed over the target.
#include <filesystem>
#include <string_view>

namespace kjq {

// Throws RuntimeError naming the path on any failure; the target is then left as it was.
void write_file_atomic(const std::filesystem::path& target, std::string_view content,
                       std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write |
                                                     std::filesystem::perms::group_read |
                                                     std::filesystem::perms::others_read);

// Reads a whole file; throws RuntimeError naming the path. Refuses files above max_bytes.
std::string read_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace kjq
