#include "services/translation/pipeline.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/tokenizer.hpp>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace allscene::services::translation {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int error) { return std::strerror(error); }

// posix_spawn's attribute and file-action objects, destroyed on scope exit.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child gets `in` as stdin, `out` as stdout, /dev/null as stderr,
  // nothing else open, default signal handling and an empty signal mask
  // (the hub may ignore SIGPIPE; a stage must die of it), and joins the
  // process group `group` (0: its own).
  void configure(int in, int out, pid_t group) {
    posix_spawn_file_actions_adddup2(&actions_, in, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions_, out, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions_, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr_, &none);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setpgroup(&attr_, group);
    posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  }

  // 0 or an errno value.
  int spawn(const Argv& argv, pid_t& pid) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    return posix_spawnp(&pid, args[0], &actions_, &attr_, args.data(), environ);
  }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

bool make_pipe(FileDescriptor& read_end, FileDescriptor& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

bool set_non_blocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

int milliseconds_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

pid_t wait_for(pid_t pid, int& status, int options) {
  pid_t result;
  do {
    result = waitpid(pid, &status, options);
  } while (result < 0 && errno == EINTR);
  return result;
}

std::string exit_description(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

// Appends what is readable on `fd` to `into`; false on end of file or error.
bool read_available(int fd, std::string& into, std::string& error) {
  std::array<char, 65536> buffer;
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n > 0) {
      into.append(buffer.data(), static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    error = n == 0 ? "the Apertium pipeline closed its output (a stage exited)"
                   : "reading from the Apertium pipeline failed: " + errno_text(errno);
    return false;
  }
}

// Moves every complete NUL-terminated answer out of `pending`.
void take_answers(std::string& pending, std::vector<std::string>& outputs) {
  size_t start = 0;
  for (size_t nul; (nul = pending.find('\0', start)) != std::string::npos; start = nul + 1) {
    outputs.emplace_back(pending, start, nul - start);
  }
  pending.erase(0, start);
}

}  // namespace

std::vector<Argv> parse_mode_pipeline(std::string_view command, std::string_view generator_flag) {
  using Separator = boost::escaped_list_separator<char>;
  std::string text(command);
  boost::tokenizer<Separator> words(text, Separator("", " \t\r\n", "'\""));
  std::vector<Argv> stages(1);
  for (const auto& word : words) {
    if (word.empty() || word == "$2") continue;
    if (word == "|") {
      stages.emplace_back();
    } else {
      stages.back().push_back(word == "$1" ? std::string(generator_flag) : word);
    }
  }
  std::erase_if(stages, [](const Argv& stage) { return stage.empty(); });
  return stages;
}

bool capture_output(const Argv& argv, std::chrono::milliseconds timeout, std::string& output,
                    std::string& error) {
  FileDescriptor null_in(open("/dev/null", O_RDONLY | O_CLOEXEC));
  FileDescriptor read_end, write_end;
  if (null_in.get() < 0 || !make_pipe(read_end, write_end) || !set_non_blocking(read_end.get())) {
    error = "cannot create a pipe: " + errno_text(errno);
    return false;
  }
  SpawnSetup setup;
  setup.configure(null_in.get(), write_end.get(), 0);
  pid_t pid = -1;
  if (int rc = setup.spawn(argv, pid); rc != 0) {
    error = fmt::format("cannot start {}: {}", argv.at(0), errno_text(rc));
    return false;
  }
  write_end.reset();
  const auto deadline = Clock::now() + timeout;
  std::string read_error;
  bool open = true;
  while (open && Clock::now() < deadline) {
    pollfd readable{read_end.get(), POLLIN, 0};
    if (poll(&readable, 1, milliseconds_until(deadline)) < 0 && errno != EINTR) break;
    open = read_available(read_end.get(), output, read_error);
  }
  if (open) kill(pid, SIGKILL);
  int status = 0;
  wait_for(pid, status, 0);
  if (open) {
    error = fmt::format("{} did not finish in {} ms", argv.at(0), timeout.count());
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = fmt::format("{} {}", argv.at(0), exit_description(status));
    return false;
  }
  return true;
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int FileDescriptor::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void FileDescriptor::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::unique_ptr<Pipeline> Pipeline::start(const std::vector<Argv>& stages, std::string& error) {
  if (stages.empty()) {
    error = "the mode has no stages";
    return nullptr;
  }
  std::unique_ptr<Pipeline> pipeline(new Pipeline());
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    error = "cannot create a socket pair: " + errno_text(errno);
    return nullptr;
  }
  pipeline->input_.reset(sockets[0]);
  FileDescriptor stage_input(sockets[1]);
  pid_t group = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    FileDescriptor next_input, stage_output;
    if (!make_pipe(next_input, stage_output)) {
      error = "cannot create a pipe: " + errno_text(errno);
      return nullptr;  // the destructor kills the stages already started
    }
    SpawnSetup setup;
    setup.configure(stage_input.get(), stage_output.get(), group);
    pid_t pid = -1;
    if (int rc = setup.spawn(stages[i], pid); rc != 0) {
      error = fmt::format("cannot start {}: {}", stages[i].at(0), errno_text(rc));
      return nullptr;
    }
    pipeline->children_.push_back({pid, false});
    if (group == 0) group = pid;
    stage_input = std::move(next_input);
  }
  pipeline->output_ = std::move(stage_input);
  if (!set_non_blocking(pipeline->output_.get())) {
    error = "cannot make the pipeline's output non-blocking: " + errno_text(errno);
    return nullptr;
  }
  return pipeline;
}

Pipeline::~Pipeline() { kill_and_reap(); }

void Pipeline::kill_and_reap() {
  input_.reset();
  output_.reset();
  for (auto& child : children_) {
    if (child.reaped) continue;
    kill(child.pid, SIGKILL);  // an unreaped child's pid cannot have been reused
    int status = 0;
    wait_for(child.pid, status, 0);
    child.reaped = true;
  }
}

bool Pipeline::healthy() {
  bool alive = true;
  for (auto& child : children_) {
    int status = 0;
    if (!child.reaped && wait_for(child.pid, status, WNOHANG) == child.pid) child.reaped = true;
    alive = alive && !child.reaped;
  }
  pollfd idle{output_.get(), POLLIN, 0};
  return alive && poll(&idle, 1, 0) == 0;
}

ExchangeResult Pipeline::exchange(const std::vector<std::string>& requests,
                                  Clock::time_point deadline) {
  std::string to_send;
  for (const auto& request : requests) {
    to_send += request;
    to_send += '\0';
  }
  ExchangeResult result;
  std::string pending;  // output after the last complete answer
  size_t sent = 0;
  while (result.outputs.size() < requests.size()) {
    std::array<pollfd, 2> fds{pollfd{output_.get(), POLLIN, 0}, pollfd{input_.get(), POLLOUT, 0}};
    const nfds_t count = sent < to_send.size() ? 2 : 1;
    int ready = poll(fds.data(), count, milliseconds_until(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return {ExchangeResult::Status::failed, {}, "poll failed: " + errno_text(errno)};
    }
    if (ready == 0 && Clock::now() >= deadline) {
      return {
          ExchangeResult::Status::timed_out, {}, "the Apertium pipeline did not answer in time"};
    }
    if (count == 2 && fds[1].revents != 0) {
      ssize_t n = send(input_.get(), to_send.data() + sent, to_send.size() - sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return {ExchangeResult::Status::failed,
                {},
                "the Apertium pipeline stopped reading: " + errno_text(errno)};
      }
    }
    if (fds[0].revents != 0) {
      if (!read_available(output_.get(), pending, result.error)) {
        return {ExchangeResult::Status::failed, {}, result.error};
      }
      take_answers(pending, result.outputs);
    }
  }
  if (result.outputs.size() != requests.size() || !pending.empty()) {
    return {ExchangeResult::Status::failed, {}, "the Apertium pipeline answered out of step"};
  }
  return result;
}

std::vector<pid_t> Pipeline::pids() const {
  std::vector<pid_t> pids;
  for (const auto& child : children_) pids.push_back(child.pid);
  return pids;
}

}  // namespace allscene::services::translation
