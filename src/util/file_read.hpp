#pragma once
// Reading a file whose size kjq does not control (--data @FILE, manifests, kubeconfigs, token and
// namespace files) without trusting it: at most `max_bytes` are read (the read stops at
// max_bytes + 1, so /dev/zero or a 200 MB file costs no more than the limit), and a FIFO, device
// or socket is refused where a regular file is expected (opened non-blocking, so a FIFO without a
// writer is refused rather than waited on).
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/diagnostic.hpp"

namespace kjq {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

enum class FileReadProblem {
  not_found,    // ENOENT / ENOTDIR
  cannot_open,  // any other open() failure (permissions, loops, ...)
  not_regular,  // a directory, FIFO, device or socket where a regular file was expected
  too_large,    // more than max_bytes
  read_failed,  // read() failed
};

// Names the file, what went wrong and, for too_large, the limit. A RuntimeError (exit 1) unless
// the caller turns it into an input error.
class FileReadError : public RuntimeError {
 public:
  FileReadError(FileReadProblem problem, std::string file, std::string what_went_wrong);
  FileReadProblem problem() const { return problem_; }
  const std::string& file() const { return file_; }
  // The message without the file name ("larger than the limit of 1048576 bytes (1 MiB)").
  const std::string& reason() const { return reason_; }

 private:
  FileReadProblem problem_;
  std::string file_;
  std::string reason_;
};

struct FileReadOptions {
  std::size_t max_bytes = 1024 * 1024;
  // Accept FIFOs, character devices and sockets (`--data @/dev/stdin`); still bounded. A
  // directory is always refused.
  bool allow_special = false;
};

// Reads the whole file at `path`. Throws FileReadError.
std::string read_file_bounded(const std::filesystem::path& path, const FileReadOptions& options = {});
// Reads the whole of an open descriptor (left open; its owner closes it); `name` names it in
// errors. A descriptor opened with O_NONBLOCK is switched to blocking once it is known to be
// acceptable. Throws FileReadError.
std::string read_fd_bounded(int fd, const std::string& name, const FileReadOptions& options = {});

// "1 MiB", "64 KiB", "1000 bytes": a limit as people read it.
std::string describe_byte_limit(std::size_t bytes);

// Where the first NUL byte of `text` is, or nullopt. JSON has no place for a raw NUL, and a
// parser that stops at one would accept a manifest followed by anything.
std::optional<std::size_t> find_nul_byte(std::string_view text);

}  // namespace kjq
