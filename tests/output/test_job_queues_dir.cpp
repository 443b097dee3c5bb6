#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "output/job_queues_dir.hpp"
#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"

namespace fs = std::filesystem;
using kjq::output::write_job_queues_dir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace {

class JobQueuesDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kjq-queues-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    dir_ = root_ / "job-queues";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string read(const fs::path& p) { return kjq::read_file(p, 1 << 20); }

  // Every entry below dir_, as relative paths ("a", "a/manifest.json", ...), links not followed;
  // a timestamped data directory's name is shown as "..<stamp>".
  std::set<std::string> tree() {
    std::set<std::string> out;
    if (!fs::exists(dir_)) return out;
    for (auto it = fs::recursive_directory_iterator(dir_); it != fs::recursive_directory_iterator(); ++it) {
      std::string rel = it->path().lexically_relative(dir_).string();  // links not resolved
      if (rel.size() > 2 && rel[0] == '.' && rel[1] == '.' && std::isdigit(static_cast<unsigned char>(rel[2]))) {
        const auto slash = rel.find('/');
        rel = "..<stamp>" + (slash == std::string::npos ? "" : rel.substr(slash));
      }
      out.insert(rel);
    }
    return out;
  }

  // What a reader sees: queue → manifest, read through the links.
  std::map<std::string, std::string> visible() {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name[0] == '.') continue;
      std::ifstream in(it->path() / "manifest.json", std::ios::binary);
      if (!in) continue;  // a dangling link: the queue is absent
      out[name] = std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    return out;
  }

  std::string data_target() { return fs::read_symlink(dir_ / "..data").string(); }

  std::string error_of(const std::map<std::string, std::string>& manifests) {
    try {
      write_job_queues_dir(dir_, manifests);
    } catch (const kjq::RuntimeError& e) {
      return e.what();
    }
    return "";
  }

  fs::path root_;
  fs::path dir_;
};

}  // namespace

TEST_F(JobQueuesDir, WritesManifestsAndLedger) {
  auto result = write_job_queues_dir(dir_, {{"beta", "{\"b\":1}\n"}, {"alpha", "{\"a\":1}\n"}});
  EXPECT_THAT(result.written, ElementsAre("alpha", "beta"));
  EXPECT_THAT(result.removed, IsEmpty());
  EXPECT_EQ(read(dir_ / "alpha" / "manifest.json"), "{\"a\":1}\n");
  EXPECT_EQ(read(dir_ / "beta" / "manifest.json"), "{\"b\":1}\n");
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "alpha\nbeta\n");
  EXPECT_EQ(tree(),
            (std::set<std::string>{"..data", "..<stamp>", "..<stamp>/alpha", "..<stamp>/alpha/manifest.json",
                                   "..<stamp>/beta", "..<stamp>/beta/manifest.json", "alpha", "beta", ".kjq-queues"}));
  EXPECT_EQ(fs::read_symlink(dir_ / "alpha"), "..data/alpha");  // relative: the tree may be mounted anywhere
  EXPECT_EQ(data_target().rfind("..20", 0), 0u) << data_target();
  const auto perms = fs::status(dir_ / "alpha" / "manifest.json").permissions();
  EXPECT_EQ(perms & fs::perms::others_read, fs::perms::others_read);  // Nautobot pods read it
}

TEST_F(JobQueuesDir, RewriteReplacesContent) {
  write_job_queues_dir(dir_, {{"alpha", "old"}});
  auto result = write_job_queues_dir(dir_, {{"alpha", "new"}});
  EXPECT_THAT(result.written, ElementsAre("alpha"));
  EXPECT_THAT(result.removed, IsEmpty());
  EXPECT_EQ(read(dir_ / "alpha" / "manifest.json"), "new");
  EXPECT_EQ(tree(), (std::set<std::string>{"..data", "..<stamp>", "..<stamp>/alpha", "..<stamp>/alpha/manifest.json",
                                           "alpha", ".kjq-queues"}));
}

TEST_F(JobQueuesDir, AnUnchangedSetSwitchesNothing) {
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b"}});
  const std::string first = data_target();
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b"}});
  EXPECT_EQ(data_target(), first);
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b2"}});
  EXPECT_NE(data_target(), first);
  EXPECT_FALSE(fs::exists(dir_ / first)) << "the old data directory is removed";
}

TEST_F(JobQueuesDir, EmptyManifestMapCreatesDirWithEmptyLedger) {
  auto result = write_job_queues_dir(dir_, {});
  EXPECT_THAT(result.written, IsEmpty());
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "");
}

TEST_F(JobQueuesDir, RemovesQueuesItWroteThatAreNoLongerEnabled) {
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b"}, {"gamma", "g"}});
  auto result = write_job_queues_dir(dir_, {{"alpha", "a2"}});
  EXPECT_THAT(result.written, ElementsAre("alpha"));
  EXPECT_THAT(result.removed, ElementsAre("beta", "gamma"));
  EXPECT_EQ(tree(), (std::set<std::string>{"..data", "..<stamp>", "..<stamp>/alpha", "..<stamp>/alpha/manifest.json",
                                           "alpha", ".kjq-queues"}));
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "alpha\n");
  result = write_job_queues_dir(dir_, {{"alpha", "a3"}});
  EXPECT_THAT(result.removed, IsEmpty());
}

TEST_F(JobQueuesDir, AnOldLayoutDirectoryWithForeignFilesKeepsThemWhenItsQueueGoes) {
  fs::create_directories(dir_ / "gamma");
  std::ofstream(dir_ / "gamma" / "manifest.json") << "g";
  std::ofstream(dir_ / "gamma" / "notes.txt") << "mine";
  std::ofstream(dir_ / ".kjq-queues") << "gamma\n";
  auto result = write_job_queues_dir(dir_, {{"alpha", "a"}});
  EXPECT_THAT(result.removed, ElementsAre("gamma"));
  EXPECT_EQ(read(dir_ / "gamma" / "notes.txt"), "mine");
  EXPECT_FALSE(fs::exists(dir_ / "gamma" / "manifest.json"));
}

TEST_F(JobQueuesDir, AnOldLayoutTreeIsConvertedToLinks) {
  // The layout of earlier kjq versions: real <queue>/ directories, a leftover temporary.
  fs::create_directories(dir_ / "alpha");
  std::ofstream(dir_ / "alpha" / "manifest.json") << "old-a";
  std::ofstream(dir_ / "alpha" / ".manifest.json.tmp-0123456789ab") << "half";
  fs::create_directories(dir_ / "beta");
  std::ofstream(dir_ / "beta" / "manifest.json") << "old-b";
  std::ofstream(dir_ / ".kjq-queues") << "alpha\nbeta\n";
  auto result = write_job_queues_dir(dir_, {{"alpha", "new-a"}, {"gamma", "new-g"}});
  EXPECT_THAT(result.removed, ElementsAre("beta"));
  EXPECT_EQ(visible(), (std::map<std::string, std::string>{{"alpha", "new-a"}, {"gamma", "new-g"}}));
  EXPECT_TRUE(fs::is_symlink(dir_ / "alpha"));
  EXPECT_EQ(tree(), (std::set<std::string>{"..data", "..<stamp>", "..<stamp>/alpha", "..<stamp>/alpha/manifest.json",
                                           "..<stamp>/gamma", "..<stamp>/gamma/manifest.json", "alpha", "gamma",
                                           ".kjq-queues"}));
}

TEST_F(JobQueuesDir, LeftoversOfAKilledRenderAreRemovedByTheNext) {
  write_job_queues_dir(dir_, {{"alpha", "a"}});
  fs::create_directories(dir_ / "..2020_01_01_00_00_00.abcdef" / "alpha");
  std::ofstream(dir_ / "..2020_01_01_00_00_00.abcdef" / "alpha" / "manifest.json") << "half";
  fs::create_symlink("..2020_01_01_00_00_00.abcdef", dir_ / "..data_tmp");
  fs::create_symlink("..data/zeta", dir_ / "..tmp-0123456789ab");
  std::ofstream(dir_ / "..kjq-queues.tmp-0123456789ab") << "alpha\n";
  fs::create_symlink("..data/zeta", dir_ / "zeta");  // a link made before a switch that never came
  write_job_queues_dir(dir_, {{"alpha", "a"}});
  EXPECT_EQ(tree(), (std::set<std::string>{"..data", "..<stamp>", "..<stamp>/alpha", "..<stamp>/alpha/manifest.json",
                                           "alpha", ".kjq-queues"}));
}

TEST_F(JobQueuesDir, QueueDeletedByHandIsDroppedQuietly) {
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b"}});
  fs::remove_all(dir_ / "beta");
  auto result = write_job_queues_dir(dir_, {{"alpha", "a"}});
  EXPECT_THAT(result.removed, IsEmpty());
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "alpha\n");
}

TEST_F(JobQueuesDir, ForeignFilesAndDirectoriesAreUntouched) {
  fs::create_directories(dir_ / "handmade");
  std::ofstream(dir_ / "handmade" / "manifest.json") << "theirs";
  std::ofstream(dir_ / "README") << "hello";
  write_job_queues_dir(dir_, {{"alpha", "a"}});
  auto result = write_job_queues_dir(dir_, {});
  EXPECT_THAT(result.removed, ElementsAre("alpha"));
  EXPECT_EQ(tree(), (std::set<std::string>{"handmade", "handmade/manifest.json", "README", "..data", "..<stamp>",
                                           ".kjq-queues"}));
  EXPECT_EQ(read(dir_ / "handmade" / "manifest.json"), "theirs");
}

TEST_F(JobQueuesDir, ADirectoryWithForeignFilesIsNotReplaced) {
  fs::create_directories(dir_ / "alpha");
  std::ofstream(dir_ / "alpha" / "extra.txt") << "x";
  EXPECT_THAT(error_of({{"alpha", "a"}}), HasSubstr("it holds extra.txt, which kjq did not write"));
  EXPECT_EQ(read(dir_ / "alpha" / "extra.txt"), "x");
  EXPECT_FALSE(fs::exists(dir_ / "..data"));
}

TEST_F(JobQueuesDir, LedgerLinesThatAreNotQueueNamesAreIgnored) {
  fs::create_directories(dir_);
  fs::create_directories(root_ / "outside");
  std::ofstream(root_ / "outside" / "manifest.json") << "keep";
  std::ofstream(dir_ / ".kjq-queues") << "../outside\n\n.\n..\nalpha\n";
  fs::create_directories(dir_ / "alpha");
  std::ofstream(dir_ / "alpha" / "manifest.json") << "old";
  auto result = write_job_queues_dir(dir_, {});
  EXPECT_THAT(result.removed, ElementsAre("alpha"));
  EXPECT_EQ(read(root_ / "outside" / "manifest.json"), "keep");
}

TEST_F(JobQueuesDir, SymlinkedQueueDirectoryIsRefused) {
  fs::create_directories(dir_);
  fs::create_directories(root_ / "elsewhere");
  fs::create_directory_symlink(root_ / "elsewhere", dir_ / "alpha");
  EXPECT_THAT(error_of({{"alpha", "a"}, {"beta", "b"}}), HasSubstr("symlink"));
  EXPECT_TRUE(fs::is_empty(root_ / "elsewhere"));
  EXPECT_FALSE(fs::exists(dir_ / "beta"));  // refused before anything was written
  EXPECT_FALSE(fs::exists(dir_ / ".kjq-queues"));
}

TEST_F(JobQueuesDir, SymlinkedManifestIsRefused) {
  fs::create_directories(dir_ / "alpha");
  std::ofstream(root_ / "target.json") << "secret";
  fs::create_symlink(root_ / "target.json", dir_ / "alpha" / "manifest.json");
  EXPECT_THAT(error_of({{"alpha", "a"}}), HasSubstr("not a regular file"));
  EXPECT_EQ(read(root_ / "target.json"), "secret");
  EXPECT_TRUE(fs::is_symlink(dir_ / "alpha" / "manifest.json"));
}

TEST_F(JobQueuesDir, SymlinkedStaleQueueIsRefusedNotFollowed) {
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b"}});
  fs::remove_all(dir_ / "beta");
  fs::create_directories(root_ / "elsewhere");
  std::ofstream(root_ / "elsewhere" / "manifest.json") << "keep";
  fs::create_directory_symlink(root_ / "elsewhere", dir_ / "beta");
  EXPECT_THAT(error_of({{"alpha", "a2"}}), HasSubstr("symlink"));
  EXPECT_EQ(read(root_ / "elsewhere" / "manifest.json"), "keep");
  EXPECT_EQ(read(dir_ / "alpha" / "manifest.json"), "a");
}

TEST_F(JobQueuesDir, NonDirectoryQueuePathIsRefused) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "alpha") << "a file";
  EXPECT_THAT(error_of({{"alpha", "a"}}), HasSubstr("not a directory"));
  fs::remove(dir_ / "alpha");
  fs::create_directories(dir_ / "alpha" / "manifest.json");
  EXPECT_THAT(error_of({{"alpha", "a"}}), HasSubstr("not a regular file"));
}

TEST_F(JobQueuesDir, SymlinkedLedgerIsRefused) {
  fs::create_directories(dir_);
  std::ofstream(root_ / "other") << "alpha\n";
  fs::create_symlink(root_ / "other", dir_ / ".kjq-queues");
  EXPECT_THAT(error_of({{"alpha", "a"}}), HasSubstr(".kjq-queues"));
  EXPECT_FALSE(fs::exists(dir_ / "alpha"));
}

TEST_F(JobQueuesDir, BadNamesAreRefusedWithNothingWritten) {
  const std::vector<std::string> bad = {"",
                                        ".",
                                        "..",
                                        "a/b",
                                        "/abs",
                                        ".hidden",
                                        ".kjq-queues",
                                        std::string("a\0b", 3),
                                        "a\nb",
                                        "tab\there",
                                        std::string(254, 'q')};
  for (const auto& name : bad) {
    SCOPED_TRACE("name: " + name);
    const std::string err = error_of({{"good", "g"}, {name, "x"}});
    EXPECT_THAT(err, HasSubstr("invalid job queue name"));
    EXPECT_FALSE(fs::exists(dir_)) << "nothing may be created for a refused name";
  }
  EXPECT_TRUE(error_of({{std::string(253, 'q'), "x"}}).empty());  // the limit is inclusive
  EXPECT_TRUE(fs::exists(dir_ / std::string(253, 'q') / "manifest.json"));
}

TEST_F(JobQueuesDir, UnusualButSafeNamesWork) {
  auto result = write_job_queues_dir(
      dir_, {{"a.b-c_d", "1"}, {"UPPER", "2"}, {"caf\xc3\xa9", "3"}, {"with space", "4"}, {"off", "5"}});
  EXPECT_EQ(result.written.size(), 5u);
  EXPECT_EQ(read(dir_ / "with space" / "manifest.json"), "4");
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "UPPER\na.b-c_d\ncaf\xc3\xa9\noff\nwith space\n");
}

TEST_F(JobQueuesDir, DirectoryPathThatIsAFileIsAnError) {
  std::ofstream(dir_) << "file";
  EXPECT_THROW(write_job_queues_dir(dir_, {{"alpha", "a"}}), kjq::RuntimeError);
}

TEST_F(JobQueuesDir, LeavesNoTemporaryFiles) {
  write_job_queues_dir(dir_, {{"alpha", "a"}});
  write_job_queues_dir(dir_, {{"alpha", "b"}});
  for (const auto& entry : tree()) EXPECT_EQ(entry.find(".tmp"), std::string::npos) << entry;
}

// Counts the render's steps; in a child, kills the process at step `kill_at_step`.
int steps_seen = 0;
int kill_at_step = -1;
void count_or_kill() {
  if (++steps_seen == kill_at_step) ::raise(SIGKILL);
}

class JobQueuesDirKill : public JobQueuesDir {
 protected:
  // Two sets that differ in every way: queues only in each, changed content, shared queues.
  void SetUp() override {
    JobQueuesDir::SetUp();
    for (int i = 0; i < 12; ++i) {
      const std::string q = "q" + std::to_string(i);
      if (i < 9) a_[q] = "A-" + q;   // q9..q11 are added by b_
      if (i >= 3) b_[q] = "B-" + q;  // q0..q2 are removed by b_
    }
  }

  // Forks a child that renders `target` over the tree (which shows current_) and is killed by
  // `arm` (in the child) or after `delay_us` (by the parent); then checks that the tree shows the
  // old set or the new one, and that the next render leaves nothing behind.
  void kill_once(int kill_step, long delay_us) {
    const auto& target = current_ == a_ ? b_ : a_;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      steps_seen = 0;
      kill_at_step = kill_step;
      kjq::output::set_job_queues_dir_step_hook(count_or_kill);
      try {
        write_job_queues_dir(dir_, target);
      } catch (...) {
        ::_exit(2);
      }
      ::_exit(0);
    }
    if (delay_us >= 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      ::kill(child, SIGKILL);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << "the render failed";
    const auto seen = visible();
    if (seen == current_) {
      ++saw_old_;
    } else {
      ASSERT_EQ(seen, target) << "a mix of the old and the new manifests";
      ++saw_new_;
      current_ = target;
    }
    // The next render (of what is visible) cleans up whatever the killed one left.
    write_job_queues_dir(dir_, current_);
    EXPECT_EQ(visible(), current_);
    for (const auto& e : tree()) EXPECT_EQ(e.find("tmp"), std::string::npos) << e;
    std::size_t data_dirs = 0;
    for (const auto& entry : fs::directory_iterator(dir_))
      data_dirs += entry.path().filename().string().rfind("..2", 0) == 0 ? 1 : 0;
    EXPECT_EQ(data_dirs, 1u);
  }

  std::map<std::string, std::string> a_, b_, current_;
  int saw_old_ = 0, saw_new_ = 0;
};

TEST_F(JobQueuesDirKill, KilledAtEveryStepTheTreeIsTheOldOrTheNewSet) {
  write_job_queues_dir(dir_, a_);
  current_ = a_;
  // How many steps a render from a_ to b_ (and back) takes.
  steps_seen = 0;
  kjq::output::set_job_queues_dir_step_hook(count_or_kill);
  write_job_queues_dir(dir_, b_);
  const int steps = steps_seen;
  write_job_queues_dir(dir_, a_);
  kjq::output::set_job_queues_dir_step_hook(nullptr);
  ASSERT_GT(steps, 15);
  // Each step, in both directions (a_ → b_, then b_ → a_ once the switch has happened).
  for (int k = 1; k <= steps + 1; ++k) {
    SCOPED_TRACE("killed at step " + std::to_string(k));
    kill_once(k, -1);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(saw_old_, 0);
  EXPECT_GT(saw_new_, 0);
}

TEST_F(JobQueuesDirKill, KilledAtRandomTimesTheTreeIsTheOldOrTheNewSet) {
  write_job_queues_dir(dir_, a_);
  current_ = a_;
  auto started = std::chrono::steady_clock::now();
  write_job_queues_dir(dir_, b_);
  write_job_queues_dir(dir_, a_);
  const long render_us = std::max<long>(
      200,
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count() / 2);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<long> delay(0, render_us * 3 / 2);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    kill_once(-1, delay(rng));
    if (HasFatalFailure()) return;
  }
}
