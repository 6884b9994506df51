// Applies the automerge-paper editing trace (259,778 single-character edits)
// as local edits and merges the friendsforever concurrent trace, printing
// time (median of several runs), peak resident memory growth, the encoded
// size of the whole document and the time to decode and load it.
// Usage: allscene_docs_bench [editing-traces dir] (default
// ../shared/data/editing-traces).
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "services/docs/editing_trace.hpp"
#include "services/docs/encoding.hpp"

namespace docs = allscene::services::docs;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRuns = 7;

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Median wall time of kRuns runs; `cpu_ms` gets the median CPU time of this
// thread, the fairer figure on a machine shared with other work.
double median_ms(const std::function<void()>& run, double* cpu_ms = nullptr) {
  std::vector<double> times;
  std::vector<double> cpu;
  for (int i = 0; i < kRuns; ++i) {
    const auto start = Clock::now();
    const double cpu_start = thread_cpu_ms();
    run();
    cpu.push_back(thread_cpu_ms() - cpu_start);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu.begin(), cpu.end());
  if (cpu_ms != nullptr) *cpu_ms = cpu[cpu.size() / 2];
  return times[times.size() / 2];
}

// Peak resident set (VmHWM) in bytes; reset_peak() starts a new peak from
// the current resident size (Linux clear_refs 5).
long peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      long kb = 0;
      status >> kb;
      return kb * 1024;
    }
  }
  return -1;
}
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

bool sequential(const std::string& dir) {
  const auto trace = docs::load_trace(dir + "/automerge-paper.json.gz");
  std::printf("automerge-paper: %zu edits\n", trace.edit_count());
  // The parsed JSON is gone: hand its pages back so the peak counts the
  // document alone.
  malloc_trim(0);
  reset_peak();
  const long before = peak_resident_bytes();
  const size_t heap_before = mallinfo2().uordblks;
  docs::TextDoc doc("bench");
  docs::replay_sequential(trace, doc);
  const long growth = peak_resident_bytes() - before;
  const size_t heap_growth = mallinfo2().uordblks - heap_before;
  if (doc.text() != trace.end_content) {
    std::printf("  FAILED: the result differs from endContent\n");
    return false;
  }
  double apply_cpu_ms = 0;
  const double apply_ms = median_ms(
      [&] {
        docs::TextDoc fresh("bench");
        docs::replay_sequential(trace, fresh);
      },
      &apply_cpu_ms);
  std::string encoded;
  const double encode_ms = median_ms([&] { encoded = docs::encode_document(doc); });
  const double load_ms = median_ms([&] {
    docs::TextDoc loaded("reader");
    const auto decoded = docs::decode(encoded);
    if (!decoded.ok() || !loaded.apply(decoded.update).ok()) std::printf("  FAILED: load\n");
  });
  docs::TextDoc loaded("reader");
  loaded.apply(docs::decode(encoded).update);
  if (loaded.text() != trace.end_content) {
    std::printf("  FAILED: the loaded document differs from endContent\n");
    return false;
  }
  std::printf("  apply (local edits): %.1f ms median of %d (%.0f ns/edit); CPU time %.1f ms\n",
              apply_ms, kRuns, apply_ms * 1e6 / static_cast<double>(trace.edit_count()),
              apply_cpu_ms);
  std::printf("  peak resident growth: %.2f MiB; heap in use by the document: %.2f MiB\n",
              static_cast<double>(growth) / (1 << 20),
              static_cast<double>(heap_growth) / (1 << 20));
  std::printf("  runs in the document: %zu items, %zu operation runs\n", doc.item_count(),
              doc.updates_since({}).ops.size());
  std::printf("  encoded document: %zu bytes (final text %zu bytes)\n", encoded.size(),
              trace.end_content.size());
  std::printf("  encode: %.2f ms; decode + load: %.2f ms\n", encode_ms, load_ms);
  return true;
}

bool concurrent(const std::string& dir) {
  const auto trace = docs::load_trace(dir + "/friendsforever.json.gz");
  std::printf("friendsforever: %zu transactions by %zu agents\n", trace.txns.size(), trace.agents);
  std::string text;
  double cpu_ms = 0;
  const double ms = median_ms([&] { text = docs::replay_concurrent(trace).text(); }, &cpu_ms);
  if (text != trace.end_content) {
    std::printf("  FAILED: the merged result differs from endContent\n");
    return false;
  }
  std::printf(
      "  replay with fork/merge: %.1f ms median of %d (CPU %.1f ms); result equals endContent\n",
      ms, kRuns, cpu_ms);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "../shared/data/editing-traces";
  try {
    const bool ok = sequential(dir) && concurrent(dir);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "allscene_docs_bench: %s\n", e.what());
    return 2;
  }
}
