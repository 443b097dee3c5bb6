#pragma once
// The heap of a short batch command (`kjq render`, `kjq post-render`): grown in large steps and
// backed by transparent huge pages where the kernel offers them (docs/performance.md, "render of
// 1,000 queues"). Every first touch of a 4 KiB page is a page fault, and on the machines measured
// a fault costs 5-10 µs: a 1,000-queue render took 4,700 of them, a third of its time. With 2 MiB
// pages it takes about 1,200 (the program's own pages and its libraries are the rest).
//
// Not for `kjq serve`: a long-running process would keep whole 2 MiB pages for a few live bytes.
#include <cstddef>

namespace kjq::util {

// Call once, early, before the large allocations. `reserve` is how far the heap grows at a time;
// nothing is returned to the system until the process exits. Harmless where huge pages are off
// (madvise then fails and the heap is an ordinary one).
void use_batch_heap(std::size_t reserve = std::size_t{64} * 1024 * 1024);

}  // namespace kjq::util
