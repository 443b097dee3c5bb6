#include "queue/manifest_store.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "util/diagnostic.hpp"
#include "util/file_read.hpp"
#include "util/json_limits.hpp"

namespace kjq::queue {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

InputError file_error(const std::string& file, const std::string& message) {
  return InputError(Diagnostic{file, 0, 0, "", message});
}

bool truthy(const ojson& j) {
  if (j.is_null()) return false;
  if (j.is_object() || j.is_array() || j.is_string()) return !j.empty();
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number()) return j.get<double>() != 0;
  return true;
}

// A ConfigMap holds at most 1 MiB, so no manifest it mounts is larger.
constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// Reads the whole of an open manifest (at most kMaxManifestBytes; a FIFO or device is refused);
// `file` names it in errors.
std::string read_open_manifest(const UniqueFd& fd, const fs::path& file) {
  try {
    return read_fd_bounded(fd.get(), file.string(), {kMaxManifestBytes, /*allow_special=*/false});
  } catch (const FileReadError& e) {
    throw file_error(file.string(), "cannot read the manifest: " + e.reason());
  }
}

// O_NONBLOCK so that a FIFO in the manifest's place is refused rather than waited on.
constexpr int kManifestOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;

// The file's text, or nullopt when there is no such file.
std::optional<std::string> read_manifest(const fs::path& file) {
  const UniqueFd fd(::open(file.c_str(), kManifestOpenFlags));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw file_error(file.string(), std::string("cannot read the manifest: ") + std::strerror(errno));
  }
  return read_open_manifest(fd, file);
}

// Parses a manifest's JSON text after the checks no parser makes: a NUL byte anywhere (a parser
// that stops there would accept a manifest followed by anything), and depth and size.
ojson parse_manifest_text(const std::string& text, const std::string& source) {
  if (auto at = find_nul_byte(text))
    throw file_error(source, "refused: the JSON text contains a NUL byte (at byte " + std::to_string(*at + 1) + ")");
  if (auto why = json_limit_violation(text, kInputJsonLimits)) throw file_error(source, "refused: " + *why);
  try {
    return ojson::parse(text);
  } catch (const ojson::parse_error& e) {
    throw file_error(source, std::string("invalid JSON: ") + e.what());
  }
}

// Opens `rel` below `base` with openat2(RESOLVE_BENEATH): the kernel follows relative links but
// fails (EXDEV) on any step that would leave the base, or on an absolute link. Two syscalls
// instead of a readlink per path component; -1 (errno set) for anything it will not open.
UniqueFd open_beneath(const fs::path& base, const std::string& rel) {
  const UniqueFd dir(::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return UniqueFd();
  open_how how{};
  how.flags = kManifestOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, dir.get(), rel.c_str(), &how, sizeof how)));
}

}  // namespace

ManifestStore::ManifestStore(fs::path base, std::optional<std::string> fallback_json)
    : base_(std::move(base)), fallback_(std::move(fallback_json)) {}

ManifestStore ManifestStore::from_env() {
  const char* base = std::getenv("NAUTOBOT_JOB_QUEUE_PATH");
  const char* fallback = std::getenv("NAUTOBOT_KUBERNETES_JOB_MANIFEST");
  return ManifestStore(base && *base ? base : kDefaultQueueBase,
                       fallback ? std::optional<std::string>(fallback) : std::nullopt);
}

void ManifestStore::check_queue_name(const std::string& queue) const {
  const std::string where = "queue \"" + queue + "\"";
  if (queue.empty()) throw file_error("", "no queue name given");
  if (queue.find('\0') != std::string::npos) throw file_error("", "queue name contains a NUL byte");
  if (queue.front() == '/')
    throw file_error("", where + " is an absolute path; refusing (it would leave " + base_.string() + ")");
  fs::path rel(queue);
  for (const auto& part : rel) {
    if (part == "..")
      throw file_error("", where + " contains \"..\"; refusing (it would leave " + base_.string() + ")");
    // "..data" and "..2026_11_27_..." are the kubelet's own entries in a ConfigMap volume.
    if (part.string().rfind("..", 0) == 0) throw file_error("", where + " names a hidden \"..\" entry; refusing");
  }
}

fs::path ManifestStore::resolve_queue_path(const std::string& queue) const {
  check_queue_name(queue);
  const std::string where = "queue \"" + queue + "\"";
  fs::path rel(queue);
  // Symbolic links are followed, as the kubelet's ConfigMap volumes need (each queue directory is
  // a link into ..data/), but the resolved file must stay inside the resolved base: a link that
  // points anywhere else is refused (Nautobot's containment check, made strict about links).
  fs::path file = base_ / rel / "manifest.json";
  std::error_code ec;
  fs::path real_base = fs::weakly_canonical(base_, ec);
  if (ec) real_base = fs::absolute(base_);
  fs::path real_file = fs::weakly_canonical(file, ec);
  if (ec) throw file_error(file.string(), "cannot resolve the manifest path: " + ec.message());
  const std::string b = real_base.string(), f = real_file.string();
  if (!(f.rfind(b + "/", 0) == 0)) throw file_error("", where + " resolves to " + f + ", outside " + b + "; refusing");
  return file;
}

LoadedManifest ManifestStore::load(const std::string& queue) const {
  // Fast path, for every job: the kernel opens the file and vouches that it is inside the base.
  // Anything else (no file, an absolute link, a link that leaves the base, an old kernel) takes
  // the slow path, whose checks and messages decide, exactly as before.
  check_queue_name(queue);
  fs::path file = base_ / queue / "manifest.json";
  std::optional<std::string> text;
  if (const UniqueFd fd = open_beneath(base_, queue + "/manifest.json")) text = read_open_manifest(fd, file);
  if (!text) {
    file = resolve_queue_path(queue);
    text = read_manifest(file);
  }
  if (text) {
    ojson m = parse_manifest_text(*text, file.string());
    validate_job_manifest(m, file.string());
    return {std::move(m), file.string()};
  }
  if (fallback_) {
    ojson m = parse_manifest_text(*fallback_, "NAUTOBOT_KUBERNETES_JOB_MANIFEST");
    if (truthy(m)) {
      validate_job_manifest(m, "NAUTOBOT_KUBERNETES_JOB_MANIFEST");
      return {std::move(m), "NAUTOBOT_KUBERNETES_JOB_MANIFEST"};
    }
  }
  throw file_error(file.string(), "unable to retrieve a Kubernetes job manifest for queue \"" + queue +
                                      "\": the file does not exist and NAUTOBOT_KUBERNETES_JOB_MANIFEST is not set");
}

std::vector<std::string> ManifestStore::queues() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(base_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("..", 0) == 0) continue;  // the kubelet's own entries of a ConfigMap volume
    if (it->is_directory() && fs::exists(it->path() / "manifest.json")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void validate_job_manifest(const ojson& m, const std::string& source) {
  if (!m.is_object()) throw file_error(source, "the manifest is not a JSON object");
  if (m.value("kind", "") != "Job")
    throw file_error(source,
                     "the manifest is not a Job (kind is \"" +
                         (m.contains("kind") && m["kind"].is_string() ? m["kind"].get<std::string>() : std::string()) +
                         "\")");
  const ojson* c = nullptr;
  if (m.contains("spec") && m["spec"].is_object() && m["spec"].contains("template") &&
      m["spec"]["template"].is_object() && m["spec"]["template"].contains("spec") &&
      m["spec"]["template"]["spec"].is_object() && m["spec"]["template"]["spec"].contains("containers"))
    c = &m["spec"]["template"]["spec"]["containers"];
  if (!c || !c->is_array() || c->empty() || !(*c)[0].is_object())
    throw file_error(source, "the Job has no containers (spec.template.spec.containers is missing or empty)");
  if (m.contains("metadata") && !m["metadata"].is_object()) throw file_error(source, "metadata is not an object");
}

}  // namespace kjq::queue
