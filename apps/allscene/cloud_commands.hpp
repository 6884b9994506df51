// The cloud services from the command line (docs/services.md): `services`
// lists them, `services call` runs any operation, and `translate` and
// `ask` are the everyday shortcuts. They go through the running hub's
// REST API (/api/v1/services), as a service token would.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace allscene::app {

class Backend;

class CloudCommands {
 public:
  explicit CloudCommands(CLI::App& app);
  bool chosen() const;
  // Runs the chosen command; returns the exit code (0 done, 1 refused or
  // failed: the message says why).
  int run();

 private:
  int list(Backend& backend);
  // Runs SERVICE/OPERATION with `request` for --user and prints the
  // answer, or the refusal's message (exit code 1).
  int call(Backend& backend, const std::string& service, const std::string& operation,
           const std::string& request, bool text_answer);

  CLI::App* services_ = nullptr;
  CLI::App* call_ = nullptr;
  CLI::App* translate_ = nullptr;
  CLI::App* ask_ = nullptr;

  std::string data_dir_ = "./allscene-data";
  bool json_ = false;
  std::string user_;
  std::string service_;
  std::string operation_;
  std::string request_;
  std::string text_;
  std::string from_ = "en";
  std::string to_;
};

}  // namespace allscene::app
