// `allscene user ...` and `allscene device ...`: the registry from the
// command line. With the data directory's hub running, they go through its
// admin endpoint (admin_client.hpp), so changes apply at once (disabling
// or removing a device disconnects it); otherwise, or when that hub serves
// no endpoint, they run the same admin API in-process on the data
// directory (a running hub then applies changes within a second). The
// output is the same either way. `device token` reads the device's key
// from the data directory in both cases (SQLite allows a reader beside the
// hub; the API never hands keys out after they were issued).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

namespace allscene::app {

class Backend;

class RegistryCommands {
 public:
  // Registers `user` and `device` with their subcommands on `app`.
  explicit RegistryCommands(CLI::App& app);
  bool chosen() const { return user_->parsed() || device_->parsed(); }
  // `allscene device`, for commands that live beside the registry's.
  CLI::App& device_command() { return *device_; }
  // Runs the chosen subcommand; returns the process exit code (0 done,
  // 1 refused: the message says why).
  int run();

 private:
  void add_user_commands();
  void add_device_commands();
  int run_user(Backend& backend);
  int run_device(Backend& backend);
  int print_token();

  CLI::App* user_ = nullptr;
  CLI::App* device_ = nullptr;
  std::string data_dir_ = "./allscene-data";
  bool json_ = false;
  std::string id_;
  std::string name_;
  // device add
  std::string owner_;
  std::string device_class_ = "iot";
  std::vector<std::string> tags_;
  std::string auth_ = "sas";
  std::string password_;
  std::vector<std::string> thumbprints_;
  bool ca_signed_ = false;
  bool gateway_ = false;
  std::string hub_host_ = "localhost";
  // device token
  unsigned ttl_ = 3600;
};

}  // namespace allscene::app
