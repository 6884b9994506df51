// `allscene discover`: lists the hubs that announce themselves on the local
// network (DNS-SD over mDNS; docs/discovery.md), through the SDK's
// discover_hubs().
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace allscene::app {

class DiscoverCommand {
 public:
  // Registers the subcommand and its options on `app`.
  explicit DiscoverCommand(CLI::App& app);
  bool chosen() const { return command_->parsed(); }
  // Browses for --timeout and prints what answered; returns the exit code:
  // 0 done (also when no hub answered), 1 the mDNS stack could not start.
  int run();

 private:
  CLI::App* command_ = nullptr;
  std::chrono::milliseconds timeout_{2000};
  bool json_ = false;
  bool ipv4_only_ = false;
};

// "2s", "1.5s", "500ms" or a bare number of seconds; nullopt for anything
// else, and for durations outside 1 ms to 10 min.
std::optional<std::chrono::milliseconds> parse_timeout(const std::string& text);

}  // namespace allscene::app
