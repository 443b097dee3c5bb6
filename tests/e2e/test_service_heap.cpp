// util::use_service_heap with glibc's own malloc (the sanitizer build, where the library tests
// run, replaces malloc). Each case runs in a child process: the arena limit is process-wide and
// must not change how the rest of this executable allocates.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "util/service_heap.hpp"

namespace {

// How many malloc arenas a child ends up with when 8 threads, all alive, allocate, after
// use_service_heap(2) or not at all.
int arenas_in_child(bool limited) {
  const pid_t child = fork();
  if (child == 0) {
    if (limited) kjq::util::use_service_heap(2);
    // All eight alive at once: an exited thread's arena would be handed to the next one.
    std::latch all_allocated(8);
    std::vector<std::thread> threads;
    std::vector<void*> blocks(8);
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&blocks, &all_allocated, i] {
        blocks[static_cast<std::size_t>(i)] = std::malloc(4096);
        all_allocated.arrive_and_wait();
      });
    for (auto& t : threads) t.join();
    char* text = nullptr;
    std::size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    malloc_info(0, out);
    std::fclose(out);
    int heaps = 0;
    for (const char* at = text; (at = std::strstr(at, "<heap nr=")) != nullptr; ++at) ++heaps;
    _exit(heaps);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ServiceHeap, ThreadsShareTwoArenas) {
  // Without the limit each new thread gets an arena of its own: the check can see the difference.
  EXPECT_GT(arenas_in_child(false), 2);
  const int limited = arenas_in_child(true);
  EXPECT_GE(limited, 1);
  EXPECT_LE(limited, 2);
}

}  // namespace
