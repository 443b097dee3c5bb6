#include "util/service_heap.hpp"

#include <malloc.h>

namespace kjq::util {

void use_service_heap(int arenas) { mallopt(M_ARENA_MAX, arenas); }

}  // namespace kjq::util
