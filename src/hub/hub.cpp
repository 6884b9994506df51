#include "hub/hub.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "net/server.hpp"

namespace allscene::hub {
namespace {

// Holds an exclusive lock on DATA_DIR/LOCK so two hubs never share one
// data directory.
class DataDirLock {
 public:
  explicit DataDirLock(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const auto path = dir / "LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(), strerror(errno)));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw std::runtime_error(fmt::format(
          "data directory {} is in use by another allscene hub; stop it or use --data-dir",
          dir.string()));
    }
  }
  ~DataDirLock() { ::close(fd_); }
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw std::invalid_argument(fmt::format(
        "unknown log level '{}': use trace, debug, info, warn, error or off", level));
  }
  auto logger = std::make_shared<spdlog::logger>("allscene",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  if (format == "json") {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
}

int run(HubConfig config) {
  validate(config);
  DataDirLock lock(config.data_dir);
  const unsigned loops = config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  broker::AllowAll anonymous;
  // The server (and every connection its loops still hold) must go before
  // the broker they point into: it lives in an optional reset below.
  std::optional<net::Server> server_holder(std::in_place, loops);
  net::Server& server = *server_holder;
  broker::Broker broker(config.limits, server, anonymous, ALLSCENE_VERSION);
  server.set_broker(broker);
  for (const auto& l : config.listeners) server.listen(l);

  boost::asio::io_context signal_io;
  boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
  std::thread signal_thread([&] { signal_io.run(); });

  spdlog::info("allscene hub started: {} event loop(s), data in {}", loops, config.data_dir);
  server.run();
  signal_io.stop();
  signal_thread.join();
  server_holder.reset();
  const auto t = broker.totals();
  spdlog::info("hub stopped: {} connections served, {} messages in, {} out", t.connections_total,
               t.messages_received, t.messages_sent);
  if (t.dropped()) spdlog::info("{} messages were dropped (see $SYS/broker/messages/dropped/#)", t.dropped());
  return 0;
}

}  // namespace allscene::hub
