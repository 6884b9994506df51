// What an operator runs beside the hub (docs/operations.md):
//   backup DEST     an online, consistent copy of the data directory
//   restore BACKUP  puts a backup in place (the hub stopped)
//   status          how the running hub is: ready, uptime, connections,
//                   devices, messages, store and services (from /readyz
//                   and /metrics)
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace allscene::app {

class OpsCommands {
 public:
  explicit OpsCommands(CLI::App& app);
  bool chosen() const;
  // Returns the exit code: 0 done (status: the hub is ready), 1 refused or
  // failed, with a message that says why.
  int run();

 private:
  int backup();
  int restore();
  int status();

  CLI::App* backup_ = nullptr;
  CLI::App* restore_ = nullptr;
  CLI::App* status_ = nullptr;
  std::string data_dir_ = "./allscene-data";
  std::string path_;
  bool json_ = false;
};

}  // namespace allscene::app
