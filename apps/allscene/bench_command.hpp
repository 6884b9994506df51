// `allscene bench`: the MQTT load generator (src/bench), as a subcommand.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "bench/options.hpp"

namespace allscene::app {

class BenchCommand {
 public:
  // Registers the subcommand and its options on `app`.
  explicit BenchCommand(CLI::App& app);
  bool chosen() const { return command_->parsed(); }
  // Runs the benchmark after parsing; returns the process exit code:
  // 0 done, 1 no connection succeeded, 2 bad options.
  int run();

 private:
  CLI::App* command_ = nullptr;
  bench::Options options_;
  std::string scenario_ = "pairs";
  std::string version_ = "5";
  bool json_ = false;
  bool quiet_ = false;
};

}  // namespace allscene::app
