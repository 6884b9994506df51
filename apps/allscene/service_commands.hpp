// The service side from the command line: `twin get|set`, `call`, `send`,
// `query` and `service connection-string`. They use the hub's REST API
// (docs/api.md) through the running hub's endpoint, or in-process on the
// data directory when the hub is stopped (twin get/set and query only:
// calling a method or sending a message needs the hub's connections).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace allscene::app {

class Backend;

class ServiceCommands {
 public:
  // Registers the commands on `app`; `hub_host` is the config file's
  // [auth] hub_host (may be empty).
  ServiceCommands(CLI::App& app, const std::string& hub_host);
  bool chosen() const;
  // Runs the chosen command; returns the exit code (0 done, 1 refused or
  // failed: the message says why).
  int run();

 private:
  int twin_get(Backend& backend);
  int twin_set(Backend& backend);
  int call(Backend& backend);
  int send(Backend& backend);
  int query(Backend& backend);
  int connection_string();

  CLI::App* twin_ = nullptr;
  CLI::App* twin_get_ = nullptr;
  CLI::App* twin_set_ = nullptr;
  CLI::App* call_ = nullptr;
  CLI::App* send_ = nullptr;
  CLI::App* query_ = nullptr;
  CLI::App* service_ = nullptr;
  CLI::App* connection_string_ = nullptr;

  std::string data_dir_ = "./allscene-data";
  bool json_ = false;
  std::string device_;
  std::string patch_;
  std::string tags_;
  std::string etag_;
  bool replace_ = false;
  std::string method_;
  std::string payload_;
  unsigned timeout_ = 30;
  std::string message_;
  std::vector<std::string> properties_;
  unsigned ttl_ = 0;
  std::string query_text_;
  unsigned page_size_ = 100;
  std::string hub_host_;
  std::string config_file_;
};

}  // namespace allscene::app
