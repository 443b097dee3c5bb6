#include "util/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace fs = std::filesystem;
using kjq::FileReadError;
using kjq::FileReadProblem;
using kjq::read_file_bounded;

namespace {

class FileRead : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kjq-file-read-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return dir_ / name;
  }
  FileReadProblem problem_of(const fs::path& p, kjq::FileReadOptions o) {
    try {
      read_file_bounded(p, o);
    } catch (const FileReadError& e) {
      last_message_ = e.what();
      return e.problem();
    }
    ADD_FAILURE() << p << " was read";
    return FileReadProblem::read_failed;
  }
  fs::path dir_;
  std::string last_message_;
};

TEST_F(FileRead, ReadsUpToAndIncludingTheLimit) {
  EXPECT_EQ(read_file_bounded(write("a", "hello"), {5, false}), "hello");
  EXPECT_EQ(read_file_bounded(write("empty", ""), {5, false}), "");
  EXPECT_EQ(problem_of(write("b", "hello!"), {5, false}), FileReadProblem::too_large);
  EXPECT_NE(last_message_.find((dir_ / "b").string()), std::string::npos) << last_message_;
  EXPECT_NE(last_message_.find("limit of 5 bytes"), std::string::npos) << last_message_;
}

TEST_F(FileRead, TheMessageNamesTheLimitInMiB) {
  std::string big(1024 * 1024 + 1, 'x');
  EXPECT_EQ(problem_of(write("big", big), {1024 * 1024, false}), FileReadProblem::too_large);
  EXPECT_NE(last_message_.find("1048576 bytes (1 MiB)"), std::string::npos) << last_message_;
}

TEST_F(FileRead, DevZeroIsRefusedAsADeviceAndStopsAtTheLimitWhenAllowed) {
  EXPECT_EQ(problem_of("/dev/zero", {1024, false}), FileReadProblem::not_regular);
  EXPECT_NE(last_message_.find("character device"), std::string::npos) << last_message_;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(problem_of("/dev/zero", {1024 * 1024, true}), FileReadProblem::too_large);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(last_message_.find("stopped reading"), std::string::npos) << last_message_;
}

TEST_F(FileRead, AFifoWithoutAWriterIsRefusedNotWaitedOn) {
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(problem_of(fifo, {1024, false}), FileReadProblem::not_regular);
  EXPECT_NE(last_message_.find("a FIFO"), std::string::npos) << last_message_;
}

TEST_F(FileRead, AFifoIsReadWhenAllowed) {
  const fs::path fifo = dir_ / "fifo2";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Hold a writer open first so the non-blocking open has a peer, then write and close.
  const int w = ::open(fifo.c_str(), O_RDWR);
  ASSERT_GE(w, 0);
  ASSERT_EQ(::write(w, "{}", 2), 2);
  const int r = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(r, 0);
  ::close(w);
  EXPECT_EQ(kjq::read_fd_bounded(r, fifo.string(), {16, true}), "{}");
  ::close(r);
}

TEST_F(FileRead, DirectoriesAndMissingFilesAreRefused) {
  EXPECT_EQ(problem_of(dir_, {1024, true}), FileReadProblem::not_regular);
  EXPECT_NE(last_message_.find("a directory"), std::string::npos) << last_message_;
  EXPECT_EQ(problem_of(dir_ / "absent", {1024, false}), FileReadProblem::not_found);
  EXPECT_NE(last_message_.find((dir_ / "absent").string()), std::string::npos) << last_message_;
}

TEST_F(FileRead, UniqueFdClosesOnDestructionAndMove) {
  int raw = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(raw, 0);
  {
    kjq::UniqueFd a(raw);
    kjq::UniqueFd b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), raw);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // closed
}

TEST(FindNulByte, FindsTheFirstNul) {
  EXPECT_FALSE(kjq::find_nul_byte("{}").has_value());
  EXPECT_EQ(kjq::find_nul_byte(std::string("{}\0\0", 4)), 2u);
  EXPECT_EQ(kjq::describe_byte_limit(64 * 1024), "65536 bytes (64 KiB)");
  EXPECT_EQ(kjq::describe_byte_limit(1000), "1000 bytes");
}

}  // namespace
