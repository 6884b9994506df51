// Counts heap allocations made by the calling thread (global operator new is
// replaced in alloc_counter.cpp for the whole test binary).
#pragma once

#include <cstddef>

namespace allscene::registry {
void start_counting_allocations();
std::size_t stop_counting_allocations();  // allocations since start
}  // namespace allscene::registry
