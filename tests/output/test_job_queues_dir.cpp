#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

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

  // Every entry below dir_, as relative paths ("a", "a/manifest.json", ...).
  std::set<std::string> tree() {
    std::set<std::string> out;
    if (!fs::exists(dir_)) return out;
    for (auto it = fs::recursive_directory_iterator(dir_); it != fs::recursive_directory_iterator();
         ++it)
      out.insert(fs::relative(it->path(), dir_).string());
    return out;
  }

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
  EXPECT_EQ(tree(), (std::set<std::string>{"alpha", "alpha/manifest.json", "beta",
                                           "beta/manifest.json", ".kjq-queues"}));
  const auto perms = fs::status(dir_ / "alpha" / "manifest.json").permissions();
  EXPECT_EQ(perms & fs::perms::others_read, fs::perms::others_read);  // Nautobot pods read it
}

TEST_F(JobQueuesDir, RewriteReplacesContent) {
  write_job_queues_dir(dir_, {{"alpha", "old"}});
  auto result = write_job_queues_dir(dir_, {{"alpha", "new"}});
  EXPECT_THAT(result.written, ElementsAre("alpha"));
  EXPECT_THAT(result.removed, IsEmpty());
  EXPECT_EQ(read(dir_ / "alpha" / "manifest.json"), "new");
  EXPECT_EQ(tree(), (std::set<std::string>{"alpha", "alpha/manifest.json", ".kjq-queues"}));
}

TEST_F(JobQueuesDir, EmptyManifestMapCreatesDirWithEmptyLedger) {
  auto result = write_job_queues_dir(dir_, {});
  EXPECT_THAT(result.written, IsEmpty());
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "");
}

TEST_F(JobQueuesDir, RemovesQueuesItWroteThatAreNoLongerEnabled) {
  write_job_queues_dir(dir_, {{"alpha", "a"}, {"beta", "b"}, {"gamma", "g"}});
  // A foreign file inside a managed queue directory keeps that directory alive.
  std::ofstream(dir_ / "gamma" / "notes.txt") << "mine";
  auto result = write_job_queues_dir(dir_, {{"alpha", "a2"}});
  EXPECT_THAT(result.written, ElementsAre("alpha"));
  EXPECT_THAT(result.removed, ElementsAre("beta", "gamma"));
  EXPECT_EQ(tree(), (std::set<std::string>{"alpha", "alpha/manifest.json", "gamma",
                                           "gamma/notes.txt", ".kjq-queues"}));
  EXPECT_EQ(read(dir_ / "gamma" / "notes.txt"), "mine");
  EXPECT_EQ(read(dir_ / ".kjq-queues"), "alpha\n");
  // Now unmanaged: a later run does not report or touch it again.
  result = write_job_queues_dir(dir_, {{"alpha", "a3"}});
  EXPECT_THAT(result.removed, IsEmpty());
  EXPECT_TRUE(fs::exists(dir_ / "gamma" / "notes.txt"));
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
  fs::create_directories(dir_ / "alpha");
  std::ofstream(dir_ / "alpha" / "extra.txt") << "x";
  write_job_queues_dir(dir_, {{"alpha", "a"}});
  auto result = write_job_queues_dir(dir_, {});
  EXPECT_THAT(result.removed, ElementsAre("alpha"));
  EXPECT_EQ(tree(), (std::set<std::string>{"handmade", "handmade/manifest.json", "README",
                                           "alpha", "alpha/extra.txt", ".kjq-queues"}));
  EXPECT_EQ(read(dir_ / "handmade" / "manifest.json"), "theirs");
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
  EXPECT_THAT(error_of({{"alpha", "a"}}), HasSubstr("symlink"));
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
  const std::vector<std::string> bad = {"",      ".",         "..",   "a/b",     "/abs",
                                        ".hidden", ".kjq-queues", std::string("a\0b", 3),
                                        "a\nb",  "tab\there", std::string(254, 'q')};
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
  auto result = write_job_queues_dir(dir_, {{"a.b-c_d", "1"}, {"UPPER", "2"}, {"caf\xc3\xa9", "3"},
                                            {"with space", "4"}, {"off", "5"}});
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
