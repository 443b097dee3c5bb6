#pragma once
// Writes that are never seen half-done: content goes to a temporary file in the same directory,
// is flushed to disk, then renamed over the target.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kjq {

// Throws RuntimeError naming the path on any failure; the target is then left as it was.
void write_file_atomic(const std::filesystem::path& target, std::string_view content,
                       std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write |
                                                     std::filesystem::perms::group_read |
                                                     std::filesystem::perms::others_read);

// Several files replaced together: every file is written to a temporary first, then one
// filesystem sync covers them all, then each is renamed into place. Until commit() nothing is
// visible; a failure before it leaves every target as it was. Temporaries not committed are
// removed by the destructor. (One sync instead of one per file: a render of thousands of
// queues must not wait for thousands of fsyncs.)
class AtomicWriteBatch {
 public:
  AtomicWriteBatch() = default;
  AtomicWriteBatch(const AtomicWriteBatch&) = delete;
  AtomicWriteBatch& operator=(const AtomicWriteBatch&) = delete;
  ~AtomicWriteBatch();

  // Throws RuntimeError naming the path.
  void stage(const std::filesystem::path& target, std::string_view content,
             std::filesystem::perms mode = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                           std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  // Syncs, then renames every staged file over its target, in staging order.
  void commit();
  std::size_t size() const { return staged_.size(); }

 private:
  struct Staged {
    std::filesystem::path temporary;
    std::filesystem::path target;
  };
  std::vector<Staged> staged_;
};

// Reads a whole file; throws RuntimeError naming the path. Refuses files above max_bytes.
std::string read_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace kjq
