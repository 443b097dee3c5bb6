#include "output/job_queues_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"

namespace kjq::output {

namespace {

namespace fs = std::filesystem;

constexpr const char* kLedger = ".kjq-queues";
constexpr const char* kManifest = "manifest.json";
constexpr std::size_t kMaxLedgerBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxQueueName = 253;

// Why a name is not one safe path component ("" when it is). A leading "." is refused so no
// queue can collide with the ledger or hide; control characters would corrupt the
// one-name-per-line ledger.
std::string queue_name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxQueueName) return "is longer than 253 bytes";
  if (name.front() == '.') return "starts with \".\"";
  for (char c : name) {
    if (c == '/') return "contains \"/\"";
    if (c == '\0') return "contains a NUL byte";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return "contains a control character";
  }
  return "";
}

std::string errno_text() { return std::strerror(errno); }

enum class Kind { missing, directory, regular, symlink, other };

Kind lstat_kind(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return Kind::missing;
    throw RuntimeError("cannot inspect " + p.string() + ": " + errno_text());
  }
  if (S_ISLNK(st.st_mode)) return Kind::symlink;
  if (S_ISDIR(st.st_mode)) return Kind::directory;
  if (S_ISREG(st.st_mode)) return Kind::regular;
  return Kind::other;
}

// <dir>/<queue> must be a real directory (or absent) and its manifest.json a regular file (or
// absent): never follow a symlink planted there.
void check_queue_path(const fs::path& dir, const std::string& queue) {
  const fs::path qdir = dir / queue;
  switch (lstat_kind(qdir)) {
    case Kind::missing: return;
    case Kind::directory: break;
    case Kind::symlink: throw RuntimeError("refusing to use " + qdir.string() + ": it is a symlink");
    default: throw RuntimeError("refusing to use " + qdir.string() + ": it is not a directory");
  }
  const fs::path manifest = qdir / kManifest;
  switch (lstat_kind(manifest)) {
    case Kind::missing:
    case Kind::regular: return;
    case Kind::symlink:
      throw RuntimeError("refusing to use " + manifest.string() + ": it is a symlink");
    default: throw RuntimeError("refusing to use " + manifest.string() + ": it is not a regular file");
  }
}

// Queue names kjq wrote on an earlier run. Lines that are not valid queue names are ignored:
// they can only come from outside kjq, and acting on them could touch foreign paths.
// True when the regular file at `path` holds exactly `bytes`.
bool same_content(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || size != bytes.size()) return false;
  try {
    return read_file(path, bytes.size()) == bytes;
  } catch (const RuntimeError&) {
    return false;
  }
}

std::set<std::string> read_ledger(const fs::path& ledger) {
  std::set<std::string> names;
  switch (lstat_kind(ledger)) {
    case Kind::missing: return names;
    case Kind::regular: break;
    default: throw RuntimeError("refusing to use " + ledger.string() + ": it is not a regular file");
  }
  const std::string text = read_file(ledger, kMaxLedgerBytes);
  std::size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(begin, end - begin);
    if (queue_name_problem(name).empty()) names.insert(std::move(name));
    begin = end + 1;
  }
  return names;
}

}  // namespace

JobQueuesDirResult write_job_queues_dir(const std::filesystem::path& dir,
                                        const std::map<std::string, std::string>& manifests) {
  for (const auto& [queue, bytes] : manifests) {
    if (auto problem = queue_name_problem(queue); !problem.empty())
      throw RuntimeError("invalid job queue name \"" + queue + "\" for " + dir.string() + ": " +
                         problem);
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw RuntimeError("cannot create " + dir.string() + ": " + ec.message());
  if (!fs::is_directory(dir)) throw RuntimeError("cannot use " + dir.string() + ": not a directory");

  const fs::path ledger = dir / kLedger;
  const std::set<std::string> previous = read_ledger(ledger);
  std::vector<std::string> stale;
  for (const auto& queue : previous)
    if (!manifests.count(queue)) stale.push_back(queue);

  // Check every path before changing anything, so a refusal leaves the tree as it was.
  for (const auto& [queue, bytes] : manifests) check_queue_path(dir, queue);
  for (const auto& queue : stale) check_queue_path(dir, queue);

  JobQueuesDirResult result;
  AtomicWriteBatch batch;
  for (const auto& [queue, bytes] : manifests) {
    const fs::path qdir = dir / queue;
    if (::mkdir(qdir.c_str(), 0755) != 0 && errno != EEXIST)
      throw RuntimeError("cannot create " + qdir.string() + ": " + errno_text());
    if (lstat_kind(qdir) != Kind::directory)  // lost a race with someone planting a link
      throw RuntimeError("refusing to use " + qdir.string() + ": it is not a directory");
    result.written.push_back(queue);
    // An unchanged manifest is left alone: no write, no new inode for readers to notice.
    if (lstat_kind(qdir / kManifest) == Kind::regular && same_content(qdir / kManifest, bytes)) continue;
    batch.stage(qdir / kManifest, bytes);
  }
  batch.commit();

  for (const auto& queue : stale) {
    const fs::path qdir = dir / queue;
    const fs::path manifest = qdir / kManifest;
    bool gone = false;
    if (::unlink(manifest.c_str()) == 0) gone = true;
    else if (errno != ENOENT && errno != ENOTDIR)
      throw RuntimeError("cannot remove " + manifest.string() + ": " + errno_text());
    // Only an empty directory goes: anything someone else put there stays.
    if (::rmdir(qdir.c_str()) == 0) gone = true;
    else if (errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
      throw RuntimeError("cannot remove " + qdir.string() + ": " + errno_text());
    if (gone) result.removed.push_back(queue);
  }

  std::string ledger_text;
  for (const auto& [queue, bytes] : manifests) ledger_text += queue + "\n";
  write_file_atomic(ledger, ledger_text);
  return result;
}

}  // namespace kjq::output
