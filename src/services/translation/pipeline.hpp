// One long-lived Apertium pipeline: the stages of a mode (lt-proc |
// apertium-tagger | … | lt-proc -p), each started in null-flush mode (-z),
// connected by pipes, fed requests separated by NUL. Every stage flushes
// its output when it reads a NUL, so each request's translation comes back
// ending in a NUL and the processes stay up for the next request.
//
// Processes: started with posix_spawn in their own process group, signals
// at their defaults, only fds 0-2 open (the hub's other descriptors never
// leak into them), stderr to /dev/null. Our end of stdin is a socket
// written with MSG_NOSIGNAL, so a dead stage never raises SIGPIPE in the
// hub. The destructor kills and reaps every stage.
//
// Thread-safety: none; one request at a time (the engine holds a mutex per
// pipeline).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace allscene::services::translation {

using Argv = std::vector<std::string>;

// Splits a mode's shell pipeline ('…'-quoted words, stages separated by
// "|") into one argv per stage; $1 (the generator's flag) becomes
// `generator_flag` and $2 (the tagger's) is dropped.
std::vector<Argv> parse_mode_pipeline(std::string_view command, std::string_view generator_flag);

// Runs a program to completion and returns its standard output; false and
// `error` if it cannot start, fails, or outlives `timeout`.
bool capture_output(const Argv& argv, std::chrono::milliseconds timeout, std::string& output,
                    std::string& error);

// Owns a file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }
  int get() const { return fd_; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct ExchangeResult {
  enum class Status { ok, failed, timed_out };
  Status status = Status::ok;
  std::vector<std::string> outputs;  // one per request, when ok
  std::string error;                 // what went wrong, for people
};

class Pipeline {
 public:
  // Starts every stage; nullptr and `error` if one cannot start.
  static std::unique_ptr<Pipeline> start(const std::vector<Argv>& stages, std::string& error);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  // False once any stage has exited or the pipeline wrote without being
  // asked (either way it can no longer be trusted with a request).
  bool healthy();

  // Sends the requests (already in stream format, without NULs) and waits
  // for one NUL-terminated answer each, reading and writing at once so a
  // large batch cannot deadlock on full pipes. After `failed` or
  // `timed_out` the pipeline is out of step: destroy it.
  ExchangeResult exchange(const std::vector<std::string>& requests,
                          std::chrono::steady_clock::time_point deadline);

  // The stages' process ids, first stage first (tests kill them).
  std::vector<pid_t> pids() const;

 private:
  struct Child {
    pid_t pid = -1;
    bool reaped = false;
  };
  Pipeline() = default;
  void kill_and_reap();

  FileDescriptor input_;   // socket: the first stage's stdin
  FileDescriptor output_;  // pipe: the last stage's stdout, non-blocking
  std::vector<Child> children_;
};

}  // namespace allscene::services::translation
