#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "util/diagnostic.hpp"

namespace kjq {

namespace {
std::string errno_text() { return std::strerror(errno); }

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  auto v = rng();
  for (int i = 0; i < 12; ++i, v >>= 4) s += kHex[v & 0xF];
  return s;
}
}  // namespace

namespace {

// Writes `content` to a fresh temporary beside `target` and returns its path; fsyncs it when
// `sync` is set. On failure the temporary is removed and RuntimeError thrown.
std::filesystem::path write_temporary(const std::filesystem::path& target, std::string_view content,
                                      std::filesystem::perms mode, bool sync) {
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::string tmp_name = ".";
  tmp_name.append(target.filename().string()).append(".tmp-").append(random_suffix());
  auto tmp = dir / tmp_name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, static_cast<mode_t>(mode));
  if (fd < 0) throw RuntimeError("cannot create " + tmp.string() + ": " + errno_text());
  auto fail = [&](const std::string& what) {
    std::string msg = what + " " + tmp.string() + ": " + errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    throw RuntimeError(msg);
  };
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) fail("cannot chmod");
  if (sync && ::fsync(fd) != 0) fail("cannot sync");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw RuntimeError("cannot close " + tmp.string() + ": " + errno_text());
  }
  return tmp;
}

void rename_into_place(const std::filesystem::path& tmp, const std::filesystem::path& target) {
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    std::string msg = "cannot rename " + tmp.string() + " to " + target.string() + ": " + errno_text();
    ::unlink(tmp.c_str());
    throw RuntimeError(msg);
  }
}

}  // namespace

void write_file_atomic(const std::filesystem::path& target, std::string_view content, std::filesystem::perms mode) {
  rename_into_place(write_temporary(target, content, mode, /*sync=*/true), target);
}

AtomicWriteBatch::~AtomicWriteBatch() {
  for (const auto& s : staged_) ::unlink(s.temporary.c_str());
}

void AtomicWriteBatch::stage(const std::filesystem::path& target, std::string_view content,
                             std::filesystem::perms mode) {
  staged_.reserve(staged_.size() + 1);
  staged_.push_back({write_temporary(target, content, mode, /*sync=*/false), target});
}

void AtomicWriteBatch::commit() {
  if (staged_.empty()) return;
  // One syncfs() flushes every staged temporary of this filesystem.
  int fd = ::open(staged_.front().temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::syncfs(fd) != 0) {
    std::string msg = "cannot sync " + staged_.front().temporary.string() + ": " + errno_text();
    if (fd >= 0) ::close(fd);
    throw RuntimeError(msg);
  }
  ::close(fd);
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    try {
      rename_into_place(staged_[i].temporary, staged_[i].target);
    } catch (...) {
      // Renamed ones are in place and the failed one is gone: keep only those never renamed.
      staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      throw;
    }
  }
  staged_.clear();
}

std::string read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw RuntimeError("cannot open " + path.string() + ": " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw RuntimeError("cannot read " + path.string() + ": not a regular file");
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    throw RuntimeError("cannot read " + path.string() + ": file is " + std::to_string(st.st_size) +
                       " bytes, the limit is " + std::to_string(max_bytes));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string msg = "cannot read " + path.string() + ": " + errno_text();
      ::close(fd);
      throw RuntimeError(msg);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      throw RuntimeError("cannot read " + path.string() + ": larger than the limit of " + std::to_string(max_bytes) +
                         " bytes");
    }
  }
  ::close(fd);
  return out;
}

}  // namespace kjq
