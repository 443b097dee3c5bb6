// scripts/run-example.sh on a "fresh machine": apt-get and cmake (stubs that talk on stdout, as
// the real ones do) must not end up in the YAML stream, which carries the objects and nothing else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "support/process.hpp"
#include "support/test_support.hpp"

namespace kjq::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

void stub(const fs::path& dir, const std::string& name, const std::string& body) {
  std::ofstream(dir / name) << "#!/bin/sh\n" << body << "\n";
  fs::permissions(dir / name, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
}

TEST(RunExampleScript, StdoutCarriesOnlyTheObjects) {
  TempDir t;
  const fs::path bin = t.path() / "bin";
  fs::create_directories(bin);
  stub(bin, "dpkg-query", "exit 1");  // nothing installed: install-deps runs apt-get
  stub(bin, "apt-get", "echo 'Reading package lists... Done'; echo 'Setting up libyaml-cpp0.7'");
  stub(bin, "sudo", "exec \"$@\"");
  stub(bin, "cmake", "echo '-- Configuring done'; echo '[42/42] Linking CXX executable tools/kjq/kjq'");
  const std::string src = KJQ_SOURCE_DIR;
  auto r = run_process({"/usr/bin/env", "-i", "PATH=" + bin.string() + ":/usr/bin:/bin", "HOME=" + t.path().string(),
                        "KJQ_EXAMPLE_KJQ=" + std::string(KJQ_BIN), "KJQ_EXAMPLE_OUT=" + (t.path() / "queues").string(),
                        "bash", src + "/scripts/run-example.sh"},
                       120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The set-up talked, on stderr.
  EXPECT_THAT(r.err, HasSubstr("Reading package lists"));
  EXPECT_THAT(r.err, HasSubstr("Linking CXX executable"));
  EXPECT_THAT(r.err, HasSubstr("queue manifest(s) under"));
  // stdout is exactly what kjq render prints.
  auto direct = run_process({KJQ_BIN, "render", "-f", src + "/examples/values.yaml"}, 60);
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(r.out, direct.out);
  EXPECT_THAT(r.out, Not(HasSubstr("install-deps")));
  EXPECT_TRUE(fs::exists(t.path() / "queues" / "..data"));
}

}  // namespace
}  // namespace kjq::test
