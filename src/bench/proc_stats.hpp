// Resource figures from the kernel: this process through getrusage, another
// (the broker) through /proc/PID. Linux only.
#pragma once

#include <cstdint>
#include <optional>

namespace allscene::bench {

// User + system CPU seconds of this process (all threads).
double self_cpu_seconds();
// utime + stime of process `pid` in seconds, from /proc/PID/stat.
std::optional<double> process_cpu_seconds(int pid);
// Resident set size of `pid` in KiB (VmRSS of /proc/PID/status).
std::optional<std::uint64_t> process_rss_kib(int pid);

}  // namespace allscene::bench
