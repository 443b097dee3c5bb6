#pragma once
// The heap of `kjq serve`. glibc gives each new thread a malloc arena of its own (up to eight per
// core) and an arena keeps the pages it once used; serve's twenty-odd threads (tracker workers,
// evidence, informer, HTTP, admission) would spread the informer's long-lived Jobs and Pods over
// all of them. Two arenas hold the same objects in fewer pages (docs/performance.md, the 5,000-Job
// burst), at the cost of threads sharing an arena's lock, which on a service that mostly waits
// on the network is not felt.
namespace kjq::util {

// Call once, early, before the threads start. Harmless under a sanitizer, whose malloc ignores it.
void use_service_heap(int arenas = 2);

}  // namespace kjq::util
