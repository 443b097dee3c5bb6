#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"
#include "util/value_path.hpp"

namespace fs = std::filesystem;

namespace {
fs::path make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "kjq-util-XXXXXX").string();
  return fs::path(::mkdtemp(tmpl.data()));
}
}  // namespace

TEST(AtomicFile, WritesContentAndLeavesNoTemporaryFiles) {
  auto dir = make_temp_dir();
  kjq::write_file_atomic(dir / "a.json", "{\n}\n");
  EXPECT_EQ(kjq::read_file(dir / "a.json", 1024), "{\n}\n");
  kjq::write_file_atomic(dir / "a.json", "second");
  EXPECT_EQ(kjq::read_file(dir / "a.json", 1024), "second");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::remove_all(dir);
}

TEST(AtomicFile, FailureLeavesTargetUntouched) {
  auto dir = make_temp_dir();
  kjq::write_file_atomic(dir / "a.json", "original");
  fs::create_directory(dir / "sub");
  // Renaming a file over a non-empty directory fails: the old content must survive.
  std::ofstream(dir / "sub" / "x") << "x";
  EXPECT_THROW(kjq::write_file_atomic(dir / "sub", "new"), kjq::RuntimeError);
  EXPECT_EQ(kjq::read_file(dir / "a.json", 1024), "original");
  EXPECT_TRUE(fs::is_directory(dir / "sub"));
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 2);  // no temporary left behind
  fs::remove_all(dir);
}

TEST(AtomicFile, ReadRefusesOversizedAndMissingFiles) {
  auto dir = make_temp_dir();
  kjq::write_file_atomic(dir / "big", std::string(100, 'x'));
  EXPECT_THROW(kjq::read_file(dir / "big", 99), kjq::RuntimeError);
  try {
    kjq::read_file(dir / "missing", 10);
    FAIL();
  } catch (const kjq::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(Diagnostic, FormatsFileLineColumnAndPath) {
  kjq::Diagnostic d{"values.yaml", 12, 5, "workers.alpha.type", "expected \"celery\" or \"kubernetes\""};
  EXPECT_EQ(d.format(), "values.yaml:12:5: workers.alpha.type: expected \"celery\" or \"kubernetes\"");
  kjq::Diagnostic nofile{"", 0, 0, "a", "bad"};
  EXPECT_EQ(nofile.format(), "a: bad");
}

TEST(ValuePath, PlainKeysDotAndOthersBracket) {
  EXPECT_EQ(kjq::path_key("", "workers"), "workers");
  EXPECT_EQ(kjq::path_key("workers", "alpha"), "workers.alpha");
  EXPECT_EQ(kjq::path_index("workers.alpha.extraEnvVars", 0), "workers.alpha.extraEnvVars[0]");
  EXPECT_EQ(kjq::path_key("annotations", "nautobot-job.io/worker-name"),
            "annotations[\"nautobot-job.io/worker-name\"]");
}

#include "util/sha256.hpp"

TEST(Sha256, MatchesKnownDigests) {
  EXPECT_EQ(kjq::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(kjq::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(kjq::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, InPiecesIsTheDigestOfTheWhole) {
  kjq::Sha256 empty;
  EXPECT_EQ(empty.hex_digest(), kjq::sha256_hex(""));
  kjq::Sha256 pieces;
  const std::string million(1000000, 'a');
  for (std::size_t at = 0; at < million.size(); at += 65537) pieces.update(std::string_view(million).substr(at, 65537));
  EXPECT_EQ(pieces.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(AtomicWriteBatch, NothingVisibleUntilCommitThenEverything) {
  auto dir = make_temp_dir();
  kjq::write_file_atomic(dir / "a", "old a");
  {
    kjq::AtomicWriteBatch batch;
    batch.stage(dir / "a", "new a");
    batch.stage(dir / "b", "new b");
    EXPECT_EQ(batch.size(), 2u);
    EXPECT_EQ(kjq::read_file(dir / "a", 100), "old a");
    EXPECT_FALSE(fs::exists(dir / "b"));
    batch.commit();
    EXPECT_EQ(batch.size(), 0u);
  }
  EXPECT_EQ(kjq::read_file(dir / "a", 100), "new a");
  EXPECT_EQ(kjq::read_file(dir / "b", 100), "new b");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 2);
  fs::remove_all(dir);
}

TEST(AtomicWriteBatch, AbandonedBatchLeavesTargetsAndNoTemporaries) {
  auto dir = make_temp_dir();
  kjq::write_file_atomic(dir / "a", "old a");
  {
    kjq::AtomicWriteBatch batch;
    batch.stage(dir / "a", "new a");
    // A failing stage (missing directory) throws and the batch is abandoned.
    EXPECT_THROW(batch.stage(dir / "missing" / "b", "x"), kjq::RuntimeError);
  }
  EXPECT_EQ(kjq::read_file(dir / "a", 100), "old a");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::remove_all(dir);
}
