// `allscene device run`: a full device agent from the terminal. It signs in
// as one device, joins its owner's group (allscene::sdk::Ecosystem) and
// offers every cross-device feature, driven by commands typed at a prompt
// (or piped in, or given with --exec), printing what the other devices do:
// as text for people or, with --json, one JSON object per line for tools.
// See docs/ecosystem.md.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace allscene::app {

struct AgentOptions {
  // Credentials: a connection string, or --join OWNER to register (or
  // reuse) a device on the hub of a local data directory.
  std::string connection_string;
  std::string join_owner;
  std::string data_dir = "./allscene-data";
  std::string device_id;  // --join: default from the name or class
  std::string device_class = "laptop";
  std::string name;
  std::string hub = "127.0.0.1:1883";  // where to connect (HOST:PORT), or "auto"
  std::string hub_name;                // with "auto": the announced instance to pick
  bool tls = false;
  std::string ca_file;
  std::string state_dir;  // default ./allscene-agent/{device id}
  bool json = false;
  bool no_clipboard = false;
  bool decline_files = false;
  int battery = -1;                   // reported at start when 0..100
  std::vector<std::string> commands;  // NAME=SHELL COMMAND
  std::vector<std::string> allow;     // NAME=DEVICE-OR-CLASS
  std::vector<std::string> exec;      // commands to run, then exit
  bool stay = false;                  // with --exec: keep running afterwards
};

class AgentCommand {
 public:
  // Registers `run` under the `device` command.
  explicit AgentCommand(CLI::App& device);
  bool chosen() const { return run_->parsed(); }
  // Runs the agent until `quit`, end of input, SIGINT/SIGTERM, or the end
  // of --exec; the process exit code (1: could not start, or a command of
  // --exec failed).
  int run();

 private:
  CLI::App* run_ = nullptr;
  AgentOptions options_;
};

}  // namespace allscene::app
