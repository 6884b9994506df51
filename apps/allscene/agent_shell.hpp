// The device agent's commands and what it prints (agent_command.hpp).
// One command per line, words split as a shell would (quotes, no
// expansion); `help` lists them. Events from the other devices are printed
// as they come, from the client's strand, interleaved with command output
// line by line (one lock). The agent also plays the part of a device's own
// apps: a media player that follows media.control, a ringer, and the shell
// commands it was given with --command.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "allscene/ecosystem.hpp"

namespace allscene::app {

// Prints events and results: text for people, or one JSON object a line.
class AgentPrinter {
 public:
  explicit AgentPrinter(bool machine) : machine_(machine) {}
  bool machine() const { return machine_; }  // JSON lines
  // `event` has "event" and the fields of what happened; `text` is its
  // line for people.
  void event(nlohmann::json event, const std::string& text);
  // A transfer's progress: a bar on stderr for people, every 10 % for tools.
  void progress(const sdk::Transfer& transfer);

 private:
  bool machine_;
  std::mutex mutex_;
  std::map<std::string, int> shown_steps_;  // by transfer id; guarded by mutex_
};

struct AgentCommandSpec {
  std::string shell;  // run with /bin/sh -c
  sdk::CommandInfo info;
};

class AgentShell {
 public:
  AgentShell(sdk::Ecosystem& ecosystem, AgentPrinter& printer, std::string self);
  // Sets every Ecosystem callback and registers `commands`; before
  // Ecosystem::start().
  void install(const std::map<std::string, AgentCommandSpec>& commands, bool decline_files);
  // Runs one command line, waiting for its completion; false if it failed
  // (the printer was told why). `quit` sets quit_requested().
  bool execute(const std::string& line);
  bool quit_requested() const { return quit_; }

 private:
  using Words = std::vector<std::string>;
  using Handler = std::function<bool(const Words&)>;
  struct Entry {
    std::string usage;
    std::size_t min_words;  // after the command name
    Handler run;
  };
  void define_commands();
  void add(std::string name, std::string usage, std::size_t min_words, Handler run);

  // The outcome of one command as a "result" event: `data` and `text` (its
  // line for people) on success, the error's message otherwise.
  bool result(const std::string& command, std::error_code error,
              nlohmann::json data = nlohmann::json::object(), const std::string& text = {});
  bool refuse(const std::string& command, const std::string& why,
              nlohmann::json data = nlohmann::json::object());

  // A snapshot as the result of `command` (its data under the same key).
  bool show(const std::string& command, std::pair<nlohmann::json, std::string> items,
            const std::string& when_empty);
  bool show_clipboard();
  bool notify(const Words& words);
  bool play(const Words& words);
  std::optional<sdk::NowPlaying> control_player(const sdk::MediaControl& control);
  bool send(const Words& words);
  void print_help();

  sdk::Ecosystem& eco_;
  AgentPrinter& printer_;
  std::string self_;
  std::map<std::string, Entry> commands_;
  bool quit_ = false;
  // The stand-in media player, touched only on the client's strand (media
  // control) or under the shell's own calls, which wait for the strand.
  std::mutex player_mutex_;
  sdk::NowPlaying player_;             // guarded by player_mutex_
  std::vector<std::string> playlist_;  // guarded by player_mutex_
  std::size_t track_ = 0;              // guarded by player_mutex_
};

}  // namespace allscene::app
