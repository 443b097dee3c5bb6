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
  const auto before = reinterpret_cast<std::uintptr_t>(sbrk(0));
  // One allocation past the top makes malloc extend the heap by `reserve` now. Volatile: the
  // compiler may otherwise drop a malloc whose pointer is only freed.
  void* volatile grow = std::malloc(1024 * 1024);
  std::free(grow);
  const auto after = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const std::uintptr_t start = (before + kHugePage - 1) & ~(kHugePage - 1);
  if (after > start) madvise(reinterpret_cast<void*>(start), after - start, MADV_HUGEPAGE);
}

}  // namespace kjq::util
