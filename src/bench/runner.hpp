// Runs one benchmark: connects every client, publishes for warm-up plus
// duration, drains, disconnects, and reports. Every phase is time-bounded;
// a broker that stops answering or drops connections shows up as errors,
// never as a hang.
#pragma once

#include <ostream>

#include "bench/options.hpp"
#include "bench/report.hpp"

namespace allscene::bench {

// Throws std::invalid_argument for options that cannot work. Progress
// lines go to `progress` once a second when options.progress is set.
Report run(const Options& options, std::ostream& progress);

}  // namespace allscene::bench
