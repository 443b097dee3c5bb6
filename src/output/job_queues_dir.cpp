#include "output/job_queues_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <set>

#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"

namespace kjq::output {

namespace {

namespace fs = std::filesystem;

constexpr const char* kLedger = ".kjq-queues";
constexpr const char* kManifest = "manifest.json";
constexpr const char* kDataLink = "..data";
constexpr const char* kDataTmpLink = "..data_tmp";
constexpr const char* kTmpPrefix = "..tmp-";
constexpr std::size_t kMaxLedgerBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxManifestBytes = 1024 * 1024;  // what a ConfigMap holds; only for comparing
constexpr std::size_t kMaxQueueName = 253;

JobQueuesDirStepHook step_hook = nullptr;
void step() {
  if (step_hook) step_hook();
}

// Why a name is not one safe path component ("" when it is). A leading "." is refused so no
// queue can collide with the ledger, `..data` or a timestamped directory; control characters
// would corrupt the one-name-per-line ledger.
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

std::string read_link(const fs::path& p) {
  std::string buf(4096, '\0');
  const ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
  if (n < 0) throw RuntimeError("cannot read the link " + p.string() + ": " + errno_text());
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

std::string link_target(const std::string& queue) { return std::string(kDataLink) + "/" + queue; }

// A timestamped data directory's name: "..2026_12_02_16_20_00.Ab3xQz" (the kubelet's form).
bool is_data_dir_name(const std::string& name) {
  return name.size() > 3 && name[0] == '.' && name[1] == '.' && name[2] >= '0' && name[2] <= '9';
}

// Temporaries a render makes in <dir>; a killed render may leave them.
bool is_temporary_name(const std::string& name) {
  return name == kDataTmpLink || name.rfind(kTmpPrefix, 0) == 0 ||
         name.rfind(std::string(".") + kLedger + ".tmp-", 0) == 0;
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<unsigned long>(::getpid())};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 12; ++i) s += kChars[rng() % (sizeof kChars - 1)];
  return s;
}

void remove_tree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) throw RuntimeError("cannot remove " + p.string() + ": " + ec.message());
}

// Creates `target` as a symbolic link to `points_to` under a temporary name, then renames it over
// `target` (replacing a link there) — or, with `exchange`, swaps it with what is there (a
// directory) and returns the temporary name, which then holds the old entry.
fs::path place_link(const fs::path& dir, const std::string& points_to, const fs::path& target, bool exchange) {
  fs::path tmp;
  for (int attempt = 0;; ++attempt) {
    tmp = dir / (kTmpPrefix + random_suffix());
    if (::symlink(points_to.c_str(), tmp.c_str()) == 0) break;
    if (errno != EEXIST || attempt > 8)
      throw RuntimeError("cannot create the link " + tmp.string() + ": " + errno_text());
  }
  const int rc = exchange ? ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE)
                          : ::rename(tmp.c_str(), target.c_str());
  if (rc != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw RuntimeError("cannot put the link " + target.string() + " -> " + points_to + " in place: " + why);
  }
  step();
  return tmp;
}

void write_new_file(const fs::path& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) throw RuntimeError("cannot create " + path.string() + ": " + errno_text());
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError("cannot write " + path.string() + ": " + errno_text());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), 0644) != 0) throw RuntimeError("cannot chmod " + path.string() + ": " + errno_text());
}

void sync_dir(const UniqueFd& dir_fd, const fs::path& dir) {
  if (::fsync(dir_fd.get()) != 0) throw RuntimeError("cannot sync " + dir.string() + ": " + errno_text());
}

// Queue names kjq wrote on an earlier run. Lines that are not valid queue names are ignored:
// they can only come from outside kjq, and acting on them could touch foreign paths.
std::set<std::string> read_ledger(const fs::path& ledger) {
  std::set<std::string> names;
  switch (lstat_kind(ledger)) {
    case Kind::missing:
      return names;
    case Kind::regular:
      break;
    default:
      throw RuntimeError("refusing to use " + ledger.string() + ": it is not a regular file");
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

// What <dir>/<queue> is now, and what the render must do with it.
enum class QueueEntry {
  absent,   // nothing there
  ours,     // a link to ..data/<queue>
  old_dir,  // a real directory from before the ..data layout, holding only manifest.json
};

// Refuses anything kjq must not replace: a foreign link, a file, a directory with other files
// (for a queue being `removed`, other files are fine: they stay, and so does their directory).
QueueEntry inspect_queue_entry(const fs::path& dir, const std::string& queue, bool removed = false) {
  const fs::path qdir = dir / queue;
  switch (lstat_kind(qdir)) {
    case Kind::missing:
      return QueueEntry::absent;
    case Kind::symlink: {
      const std::string target = read_link(qdir);
      if (target == link_target(queue)) return QueueEntry::ours;
      throw RuntimeError("refusing to use " + qdir.string() + ": it is a symlink to " + target + ", not kjq's " +
                         link_target(queue));
    }
    case Kind::directory:
      break;
    default:
      throw RuntimeError("refusing to use " + qdir.string() + ": it is not a directory");
  }
  std::error_code ec;
  for (fs::directory_iterator it(qdir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(std::string(".") + kManifest + ".tmp-", 0) == 0) continue;  // an old render's leftover
    if (name != kManifest && removed) continue;
    if (name != kManifest)
      throw RuntimeError("refusing to replace " + qdir.string() + " with a link into " + kDataLink + ": it holds " +
                         name + ", which kjq did not write; move it away");
    if (lstat_kind(it->path()) != Kind::regular)
      throw RuntimeError("refusing to use " + it->path().string() + ": it is not a regular file");
  }
  if (ec) throw RuntimeError("cannot list " + qdir.string() + ": " + ec.message());
  return QueueEntry::old_dir;
}

// True when the data directory `data` holds exactly `manifests` (same queues, same bytes).
bool holds_exactly(const fs::path& data, const std::map<std::string, std::string>& manifests) {
  std::error_code ec;
  std::size_t entries = 0;
  for (fs::directory_iterator it(data, ec), end; !ec && it != end; it.increment(ec)) ++entries;
  if (ec || entries != manifests.size()) return false;
  for (const auto& [queue, bytes] : manifests) {
    const fs::path file = data / queue / kManifest;
    if (lstat_kind(data / queue) != Kind::directory || lstat_kind(file) != Kind::regular) return false;
    try {
      if (read_file_bounded(file, {std::max(bytes.size(), kMaxManifestBytes), false}) != bytes) return false;
    } catch (const FileReadError&) {
      return false;
    }
  }
  return true;
}

// Removes what an interrupted render left in <dir>: temporary links and files, timestamped
// directories other than `keep`, and `.manifest.json.tmp-*` files in old-layout queue directories.
void remove_leftovers(const fs::path& dir, const std::string& keep, const std::set<std::string>& old_dirs) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_temporary_name(name) || (is_data_dir_name(name) && name != keep)) doomed.push_back(it->path());
  }
  if (ec) throw RuntimeError("cannot list " + dir.string() + ": " + ec.message());
  for (const auto& p : doomed) {
    remove_tree(p);
    step();
  }
  for (const auto& queue : old_dirs) {
    std::vector<fs::path> tmps;
    for (fs::directory_iterator it(dir / queue, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().filename().string().rfind(std::string(".") + kManifest + ".tmp-", 0) == 0)
        tmps.push_back(it->path());
    for (const auto& p : tmps) ::unlink(p.c_str());
  }
}

std::string new_data_dir_name(const fs::path& dir) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.XXXXXX", &tm);
  std::string path = (dir / stamp).string();
  if (::mkdtemp(path.data()) == nullptr)
    throw RuntimeError("cannot create a directory in " + dir.string() + ": " + errno_text());
  if (::chmod(path.c_str(), 0755) != 0) throw RuntimeError("cannot chmod " + path + ": " + errno_text());
  return fs::path(path).filename().string();
}

}  // namespace

void set_job_queues_dir_step_hook(JobQueuesDirStepHook hook) { step_hook = hook; }

JobQueuesDirResult write_job_queues_dir(const std::filesystem::path& dir,
                                        const std::map<std::string, std::string>& manifests) {
  for (const auto& [queue, bytes] : manifests) {
    if (auto problem = queue_name_problem(queue); !problem.empty())
      throw RuntimeError("invalid job queue name \"" + queue + "\" for " + dir.string() + ": " + problem);
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw RuntimeError("cannot create " + dir.string() + ": " + ec.message());
  if (!fs::is_directory(dir)) throw RuntimeError("cannot use " + dir.string() + ": not a directory");
  const UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) throw RuntimeError("cannot open " + dir.string() + ": " + errno_text());
  // One render at a time per tree (the lock goes with the descriptor, also when killed).
  while (::flock(dir_fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw RuntimeError("cannot lock " + dir.string() + ": " + errno_text());

  // What is there now.
  const fs::path data_link = dir / kDataLink;
  std::string current;  // the timestamped directory ..data points at ("" when none)
  switch (lstat_kind(data_link)) {
    case Kind::missing:
      break;
    case Kind::symlink:
      current = read_link(data_link);
      break;
    default:
      throw RuntimeError("refusing to use " + data_link.string() + ": it is not a symlink");
  }
  if (!current.empty() && (!is_data_dir_name(current) || lstat_kind(dir / current) != Kind::directory))
    current.clear();  // not one of kjq's: replaced below

  const fs::path ledger = dir / kLedger;
  const std::set<std::string> previous = read_ledger(ledger);
  // Check every path before changing anything, so a refusal leaves the tree as it was.
  std::map<std::string, QueueEntry> entries;
  for (const auto& [queue, bytes] : manifests) entries[queue] = inspect_queue_entry(dir, queue);
  std::map<std::string, QueueEntry> stale;
  for (const auto& queue : previous)
    if (!manifests.count(queue)) stale[queue] = inspect_queue_entry(dir, queue, /*removed=*/true);
  // Links into ..data that the ledger does not know (a render killed before it wrote the ledger).
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (manifests.count(name) || stale.count(name) || !queue_name_problem(name).empty()) continue;
    if (lstat_kind(it->path()) == Kind::symlink && read_link(it->path()) == link_target(name))
      stale[name] = QueueEntry::ours;
  }
  if (ec) throw RuntimeError("cannot list " + dir.string() + ": " + ec.message());

  std::set<std::string> old_dirs;
  for (const auto& [queue, entry] : entries)
    if (entry == QueueEntry::old_dir) old_dirs.insert(queue);
  for (const auto& [queue, entry] : stale)
    if (entry == QueueEntry::old_dir) old_dirs.insert(queue);
  remove_leftovers(dir, current, old_dirs);

  // 1. The new data directory, complete and on disk, before anything points at it.
  std::string next = current;
  if (current.empty() || !holds_exactly(dir / current, manifests)) {
    next = new_data_dir_name(dir);
    for (const auto& [queue, bytes] : manifests) {
      const fs::path qdir = dir / next / queue;
      if (::mkdir(qdir.c_str(), 0755) != 0) throw RuntimeError("cannot create " + qdir.string() + ": " + errno_text());
      write_new_file(qdir / kManifest, bytes);
      step();
    }
    if (::syncfs(dir_fd.get()) != 0) throw RuntimeError("cannot sync " + dir.string() + ": " + errno_text());
  }
  // 2. Links for added queues: they dangle (the queue is absent, as before) until the switch.
  for (const auto& [queue, entry] : entries)
    if (entry == QueueEntry::absent) {
      if (::symlink(link_target(queue).c_str(), (dir / queue).c_str()) != 0)
        throw RuntimeError("cannot create the link " + (dir / queue).string() + ": " + errno_text());
      step();
    }
  // 3. The switch: one rename() of a temporary link over ..data.
  if (next != current) {
    const fs::path tmp = dir / kDataTmpLink;
    ::unlink(tmp.c_str());
    if (::symlink(next.c_str(), tmp.c_str()) != 0)
      throw RuntimeError("cannot create the link " + tmp.string() + ": " + errno_text());
    step();
    if (::rename(tmp.c_str(), data_link.c_str()) != 0)
      throw RuntimeError("cannot rename " + tmp.string() + " to " + data_link.string() + ": " + errno_text());
    sync_dir(dir_fd, dir);
    step();
  }
  // 4. A tree from before the ..data layout: each queue directory exchanged for its link.
  for (const auto& [queue, entry] : entries) {
    if (entry != QueueEntry::old_dir) continue;
    const fs::path old = place_link(dir, link_target(queue), dir / queue, /*exchange=*/true);
    remove_tree(old);
    step();
  }
  // 5. Queues no longer enabled: their links (already dangling) go; an old-layout directory loses
  //    its manifest.json, and the directory itself only when nothing else is in it.
  JobQueuesDirResult result;
  for (const auto& [queue, entry] : stale) {
    const fs::path qdir = dir / queue;
    bool gone = false;
    if (entry == QueueEntry::ours) {
      if (::unlink(qdir.c_str()) == 0)
        gone = true;
      else if (errno != ENOENT)
        throw RuntimeError("cannot remove " + qdir.string() + ": " + errno_text());
    } else if (entry == QueueEntry::old_dir) {
      if (::unlink((qdir / kManifest).c_str()) == 0)
        gone = true;
      else if (errno != ENOENT && errno != ENOTDIR)
        throw RuntimeError("cannot remove " + (qdir / kManifest).string() + ": " + errno_text());
      if (::rmdir(qdir.c_str()) == 0)
        gone = true;
      else if (errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
        throw RuntimeError("cannot remove " + qdir.string() + ": " + errno_text());
    }
    if (gone) result.removed.push_back(queue);
    step();
  }
  // 6. The ledger, then the old data directory and anything temporary.
  std::string ledger_text;
  for (const auto& [queue, bytes] : manifests) ledger_text += queue + "\n";
  write_file_atomic(ledger, ledger_text);
  step();
  remove_leftovers(dir, next, {});
  sync_dir(dir_fd, dir);
  for (const auto& [queue, bytes] : manifests) result.written.push_back(queue);
  return result;
}

}  // namespace kjq::output
