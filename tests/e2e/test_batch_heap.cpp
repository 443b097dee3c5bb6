// util::use_batch_heap with glibc's own malloc. It lives beside the process tests, in the debug
// build, because the sanitizer build (where the library tests run) replaces malloc: there the
// heap is ASan's and the call leaves it alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "util/batch_heap.hpp"

namespace {

bool huge_pages_offered() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
}

// The flags of the mapping that holds `address`, from /proc/self/smaps ("rd wr mr mw me ac hg").
std::string vm_flags_of(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    // A mapping's first line starts "lo-hi perms ..."; the lines of its fields start with a name.
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2) inside = lo <= a && a < hi;
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

TEST(BatchHeap, LargeAllocationsLandInHugePageAdvisedHeap) {
  if (!huge_pages_offered()) GTEST_SKIP() << "transparent huge pages are off on this machine";
  kjq::util::use_batch_heap(std::size_t{16} * 1024 * 1024);
  // 4 MiB in small pieces, as a render allocates: past the first 2 MiB boundary of the grown heap.
  std::vector<char*> pieces;
  for (int i = 0; i < 4096; ++i) {
    pieces.push_back(static_cast<char*>(std::malloc(1024)));
    std::memset(pieces.back(), 1, 1024);
  }
  const std::string flags = vm_flags_of(pieces.back());
  EXPECT_NE(flags.find(" hg"), std::string::npos) << "the heap's mapping: " << flags;
  for (char* p : pieces) std::free(p);
}

}  // namespace
