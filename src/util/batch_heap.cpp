#include "util/batch_heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace kjq::util {

void use_batch_heap(std::size_t reserve) {
  constexpr std::uintptr_t kHugePage = std::uintptr_t{2} * 1024 * 1024;
  // Large strings (manifests, the ConfigMap's YAML) from the heap rather than from a fresh mmap
  // each time one grows, and the heap never trimmed: the process is short.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(reserve * 4));
  mallopt(M_TOP_PAD, static_cast<int>(reserve));
  auto* const before = static_cast<char*>(sbrk(0));
  // One allocation past the top makes malloc extend the heap by `reserve` now. Volatile: the
  // compiler may otherwise drop a malloc whose pointer is only freed.
  void* volatile grow = std::malloc(1024 * 1024);
  std::free(grow);
  auto* const after = static_cast<char*>(sbrk(0));
  const std::uintptr_t misalignment = reinterpret_cast<std::uintptr_t>(before) % kHugePage;
  char* const start = misalignment == 0 ? before : before + (kHugePage - misalignment);
  if (after > start) madvise(start, static_cast<std::size_t>(after - start), MADV_HUGEPAGE);
}

}  // namespace kjq::util
