#include "util/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace kjq {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

FileReadError::FileReadError(FileReadProblem problem, std::string file, std::string reason)
    : RuntimeError(file + ": " + reason), problem_(problem), file_(std::move(file)), reason_(std::move(reason)) {}

std::string describe_byte_limit(std::size_t bytes) {
  std::string exact = std::to_string(bytes) + " bytes";
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
    return exact + " (" + std::to_string(bytes / (1024 * 1024)) + " MiB)";
  if (bytes >= 1024 && bytes % 1024 == 0) return exact + " (" + std::to_string(bytes / 1024) + " KiB)";
  return exact;
}

std::optional<std::size_t> find_nul_byte(std::string_view text) {
  const auto at = text.find('\0');
  if (at == std::string_view::npos) return std::nullopt;
  return at;
}

namespace {

const char* file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

std::string read_fd_bounded(int fd, const std::string& name, const FileReadOptions& options) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw FileReadError(FileReadProblem::read_failed, name, std::string("cannot inspect: ") + std::strerror(errno));
  const bool regular = S_ISREG(st.st_mode);
  if (!regular && (S_ISDIR(st.st_mode) || !options.allow_special))
    throw FileReadError(FileReadProblem::not_regular, name,
                        std::string("is ") + file_type_name(st.st_mode) + ", not a regular file; refusing to read it");
  const std::string too_large = "larger than the limit of " + describe_byte_limit(options.max_bytes);
  if (regular && static_cast<std::uintmax_t>(st.st_size) > options.max_bytes)
    throw FileReadError(FileReadProblem::too_large, name,
                        std::to_string(st.st_size) + " bytes, " + too_large + "; refusing to read it");
  if (!regular) {  // a FIFO or device opened non-blocking: wait for its data from here on
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  // Sized by what fstat said (a regular file), grown as needed, never past max_bytes + 1.
  std::string text;
  text.resize(regular ? static_cast<std::size_t>(st.st_size) + 1 : std::min<std::size_t>(options.max_bytes + 1, 65536));
  std::size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (got > options.max_bytes) break;
      text.resize(std::min<std::size_t>(options.max_bytes + 1, std::max<std::size_t>(text.size() * 2, 4096)));
    }
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileReadError(FileReadProblem::read_failed, name, std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > options.max_bytes)
    throw FileReadError(FileReadProblem::too_large, name, too_large + "; stopped reading there");
  text.resize(got);
  return text;
}

std::string read_file_bounded(const std::filesystem::path& path, const FileReadOptions& options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    const int e = errno;
    throw FileReadError(e == ENOENT || e == ENOTDIR ? FileReadProblem::not_found : FileReadProblem::cannot_open,
                        path.string(), std::string("cannot open: ") + std::strerror(e));
  }
  return read_fd_bounded(fd.get(), path.string(), options);
}

}  // namespace kjq
