#include "agent_shell.hpp"

#include <fmt/format.h>
#include <wordexp.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <memory>

namespace allscene::app {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxCommandOutput = 64 * 1024;

// Shell-like words (quotes and backslashes), with no expansion of any kind.
std::optional<std::vector<std::string>> split_words(const std::string& line) {
  wordexp_t words{};
  if (wordexp(line.c_str(), &words, WRDE_NOCMD | WRDE_UNDEF) != 0) return std::nullopt;
  std::vector<std::string> out(words.we_wordv, words.we_wordv + words.we_wordc);
  wordfree(&words);
  return out;
}

std::string join(const std::vector<std::string>& words, std::size_t from) {
  std::string text;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (i > from) text += ' ';
    text += words[i];
  }
  return text;
}

// Blocks until an SDK operation completes: start(handler) with a handler
// of (error_code) or (error_code, T).
std::error_code wait_for(const std::function<void(std::function<void(std::error_code)>)>& start) {
  auto done = std::make_shared<std::promise<std::error_code>>();
  auto result = done->get_future();
  start([done](std::error_code ec) { done->set_value(ec); });
  return result.get();
}

template <typename T>
std::pair<std::error_code, T> wait_for_value(
    const std::function<void(std::function<void(std::error_code, T)>)>& start) {
  auto done = std::make_shared<std::promise<std::pair<std::error_code, T>>>();
  auto result = done->get_future();
  start([done](std::error_code ec, T value) { done->set_value({ec, std::move(value)}); });
  return result.get();
}

// Runs a remote command's shell line; its output (capped) and exit status.
std::string run_shell(const std::string& shell) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(shell.c_str(), "r"), pclose);
  if (!pipe) return "cannot start the command";
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
    if (output.size() < kMaxCommandOutput) output.append(buffer.data(), n);
  }
  if (output.size() > kMaxCommandOutput) output.resize(kMaxCommandOutput);
  return output;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* direction_name(sdk::TransferDirection d) {
  return d == sdk::TransferDirection::sending ? "sending" : "receiving";
}

const char* state_name(sdk::TransferState s) {
  switch (s) {
    case sdk::TransferState::offered:
      return "offered";
    case sdk::TransferState::active:
      return "active";
    case sdk::TransferState::complete:
      return "complete";
    case sdk::TransferState::failed:
      return "failed";
    case sdk::TransferState::declined:
      return "declined";
    case sdk::TransferState::cancelled:
      return "cancelled";
  }
  return "unknown";
}

json card_json(const sdk::DeviceCard& c) {
  json commands = json::object();
  for (const auto& [name, info] : c.commands)
    commands[name] = {{"label", info.label}, {"allow", info.allow}};
  return {{"deviceId", c.device_id},
          {"name", c.name},
          {"class", c.device_class},
          {"online", c.online},
          {"lastSeen", c.last_seen},
          {"battery", c.battery ? json(c.battery->level) : json()},
          {"charging", c.battery && c.battery->charging},
          {"capabilities", c.capabilities},
          {"commands", commands}};
}

std::string card_text(const sdk::DeviceCard& c) {
  std::string text = fmt::format("{} ({}, \"{}\"): {}", c.device_id, c.device_class, c.name,
                                 c.online ? "online" : "offline");
  if (c.battery)
    text +=
        fmt::format(", battery {}%{}", c.battery->level, c.battery->charging ? " charging" : "");
  if (!c.last_seen.empty()) text += ", last seen " + c.last_seen;
  if (!c.commands.empty()) {
    text += ", commands:";
    for (const auto& [name, info] : c.commands) text += " " + name;
  }
  return text;
}

json media_json(const sdk::NowPlaying& m) {
  return {{"deviceId", m.device_id},     {"state", m.state},  {"title", m.title},
          {"artist", m.artist},          {"album", m.album},  {"positionMs", m.position_ms},
          {"durationMs", m.duration_ms}, {"volume", m.volume}};
}

std::string media_text(const sdk::NowPlaying& m) {
  return fmt::format("{}: {} \"{}\"{} (volume {})", m.device_id, m.state, m.title,
                     m.artist.empty() ? "" : " by " + m.artist, m.volume);
}

json activity_json(const sdk::Activity& a) {
  return {{"deviceId", a.device_id}, {"app", a.app},  {"title", a.title}, {"uri", a.uri},
          {"state", a.state},        {"time", a.time}};
}

json transfer_json(const sdk::Transfer& t) {
  return {{"id", t.id},
          {"direction", direction_name(t.direction)},
          {"peer", t.peer},
          {"name", t.name},
          {"size", t.size},
          {"bytes", t.bytes},
          {"state", state_name(t.state)},
          {"path", t.path.string()},
          {"sha256", t.sha256},
          {"error", t.error ? t.error.message() : ""}};
}

json notification_json(const sdk::Notification& n) {
  return {{"origin", n.origin}, {"id", n.id}, {"app", n.app}, {"title", n.title}, {"body", n.body}};
}

// A snapshot for a "result": the items as JSON, and one line each for people.
template <typename Item, typename ToJson, typename ToText>
std::pair<json, std::string> listing(const std::vector<Item>& items, ToJson to_json,
                                     ToText to_text) {
  json all = json::array();
  std::string text;
  for (const auto& item : items) {
    all.push_back(to_json(item));
    text += (text.empty() ? "" : "\n") + to_text(item);
  }
  return {std::move(all), std::move(text)};
}

}  // namespace

// ---- printer ---------------------------------------------------------------------

void AgentPrinter::event(json event, const std::string& text) {
  std::lock_guard lock(mutex_);
  if (machine_) {
    std::cout << event.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
  } else if (!text.empty()) {
    std::cout << text << std::endl;
  }
}

void AgentPrinter::progress(const sdk::Transfer& t) {
  if (t.size == 0) return;
  // Tools hear of every tenth, people see every percent.
  const std::uint64_t steps = machine_ ? 10 : 100;
  const auto step = static_cast<int>(t.bytes * steps / t.size);
  std::lock_guard lock(mutex_);
  auto& shown = shown_steps_[t.id];
  if (step <= shown) return;
  shown = step;
  if (machine_) {
    std::cout << json{{"event", "progress"},
                      {"transfer", t.id},
                      {"bytes", t.bytes},
                      {"size", t.size}}
                     .dump()
              << std::endl;
    return;
  }
  const int width = 30;
  const int filled = step * width / 100;
  std::cerr << fmt::format("\r{} {} [{}{}] {:3}%", direction_name(t.direction), t.name,
                           std::string(filled, '#'), std::string(width - filled, '.'), step)
            << (step == 100 ? "\n" : "") << std::flush;
}

// ---- shell -----------------------------------------------------------------------

AgentShell::AgentShell(sdk::Ecosystem& ecosystem, AgentPrinter& printer, std::string self)
    : eco_(ecosystem), printer_(printer), self_(std::move(self)) {
  player_.device_id = self_;
  player_.volume = 50;
  define_commands();
}

void AgentShell::install(const std::map<std::string, AgentCommandSpec>& commands,
                         bool decline_files) {
  eco_.on_device_changed([this](const sdk::DeviceCard& c) {
    // People need not hear of their own device's card.
    printer_.event({{"event", "device"}, {"device", card_json(c)}},
                   c.device_id == self_ ? std::string() : "device " + card_text(c));
  });
  eco_.on_device_removed([this](const std::string& id) {
    printer_.event({{"event", "device-removed"}, {"deviceId", id}}, "device " + id + " removed");
  });
  eco_.on_clipboard([this](const sdk::ClipboardItem& item) {
    json e = {{"event", "clipboard"}, {"from", item.from}, {"mime", item.mime}};
    std::string text = "clipboard from " + item.from + ": ";
    if (item.is_text()) {
      e["text"] = item.text;
      text += item.text;
    } else {
      e["name"] = item.name;
      e["size"] = item.data.size();
      text += fmt::format("{} {} ({} bytes)", item.mime, item.name, item.data.size());
    }
    printer_.event(std::move(e), text);
  });
  eco_.on_notification([this](const sdk::Notification& n, bool dismissed) {
    json actions = json::array();
    for (const auto& a : n.actions) actions.push_back({{"id", a.id}, {"label", a.label}});
    printer_.event({{"event", "notification"},
                    {"origin", n.origin},
                    {"id", n.id},
                    {"dismissed", dismissed},
                    {"app", n.app},
                    {"title", n.title},
                    {"body", n.body},
                    {"actions", actions},
                    {"reply", n.reply}},
                   dismissed ? fmt::format("notification {}/{} dismissed", n.origin, n.id)
                             : fmt::format("notification {}/{} from {}: {} — {}", n.origin, n.id,
                                           n.app, n.title, n.body));
  });
  eco_.on_notification_action([this](const sdk::NotificationActionRequest& r) {
    const auto mine = eco_.notifications();
    const bool known = std::any_of(mine.begin(), mine.end(), [&](const sdk::Notification& n) {
      return n.origin == self_ && n.id == r.id;
    });
    printer_.event({{"event", "notification-action"},
                    {"from", r.from},
                    {"id", r.id},
                    {"action", r.action},
                    {"text", r.text},
                    {"known", known}},
                   fmt::format("{} on notification {} from {}{}", r.action, r.id, r.from,
                               r.text.empty() ? "" : ": " + r.text));
    return known;
  });
  eco_.on_activity([this](const sdk::Activity& a, bool ended) {
    json e = activity_json(a);
    e["event"] = "activity";
    e["ended"] = ended;
    printer_.event(std::move(e), ended ? fmt::format("activity on {} ended", a.device_id)
                                       : fmt::format("activity on {}: {} \"{}\" {}", a.device_id,
                                                     a.app, a.title, a.uri));
  });
  eco_.on_handoff([this](const sdk::Activity& current) {
    printer_.event({{"event", "handoff"}, {"app", current.app}, {"title", current.title}},
                   fmt::format("activity \"{}\" continues on another device", current.title));
    return current.state;
  });
  eco_.on_media([this](const sdk::NowPlaying& m) {
    json e = media_json(m);
    e["event"] = "media";
    printer_.event(std::move(e), "media " + media_text(m));
  });
  eco_.on_media_control([this](const sdk::MediaControl& c) { return control_player(c); });
  eco_.on_ring([this](const sdk::RingRequest& r) {
    printer_.event({{"event", "ring"}, {"from", r.from}, {"stop", r.stop}},
                   r.stop ? "ringing stopped by " + r.from
                          : "\aRINGING — " + r.from + " is looking for this device");
  });
  eco_.on_share([this](const sdk::SharedItem& s) {
    printer_.event({{"event", "share"}, {"from", s.from}, {"text", s.text}, {"url", s.url}},
                   fmt::format("{} shared {}", s.from, s.url.empty() ? s.text : s.url));
  });
  eco_.on_file_offer([this, decline_files](const sdk::FileOffer& o) {
    printer_.event({{"event", "file-offer"},
                    {"transfer", o.transfer},
                    {"from", o.from},
                    {"name", o.name},
                    {"size", o.size},
                    {"accepted", !decline_files}},
                   fmt::format("{} offers {} ({} bytes): {}", o.from, o.name, o.size,
                               decline_files ? "declined" : "accepted"));
    return !decline_files;
  });
  eco_.on_transfer([this](const sdk::Transfer& t) {
    printer_.progress(t);
    if (t.state == sdk::TransferState::active || t.state == sdk::TransferState::offered) return;
    json e = transfer_json(t);
    e["event"] = "transfer";
    printer_.event(std::move(e),
                   fmt::format("transfer {} ({} {} {}): {}{}", t.id, direction_name(t.direction),
                               t.name, t.peer, state_name(t.state),
                               t.state == sdk::TransferState::complete && !t.path.empty()
                                   ? " → " + t.path.string()
                                   : (t.error ? ": " + t.error.message() : "")));
  });
  eco_.on_log([this](std::string_view line) {
    printer_.event({{"event", "log"}, {"message", line}}, "note: " + std::string(line));
  });
  for (const auto& [name, spec] : commands) {
    eco_.add_command(name, spec.info, [this, name, shell = spec.shell](const std::string& from) {
      printer_.event({{"event", "command"}, {"name", name}, {"from", from}},
                     fmt::format("running command {} for {}", name, from));
      return run_shell(shell);
    });
  }
}

bool AgentShell::execute(const std::string& line) {
  const auto words = split_words(line);
  if (!words)
    return refuse(line,
                  "cannot read that line: unbalanced quotes, or one of | & ; < > ( ) { } "
                  "unquoted (quote JSON: '{\"line\": 12}')");
  if (words->empty()) return true;
  const auto it = commands_.find(words->front());
  if (it == commands_.end()) {
    return refuse(words->front(), "unknown command; type help");
  }
  if (words->size() - 1 < it->second.min_words) {
    return refuse(words->front(), "usage: " + it->second.usage);
  }
  try {
    return it->second.run(*words);
  } catch (const std::exception& e) {  // a number that is not one, say
    return refuse(words->front(), std::string(e.what()) + "; usage: " + it->second.usage);
  }
}

bool AgentShell::result(const std::string& command, std::error_code error, json data,
                        const std::string& text) {
  if (error) return refuse(command, error.message(), std::move(data));
  json e = {{"event", "result"}, {"command", command}, {"ok", true}};
  if (!data.empty()) e["data"] = std::move(data);
  printer_.event(std::move(e), text.empty() ? command + ": done" : text);
  return true;
}

bool AgentShell::refuse(const std::string& command, const std::string& why, json data) {
  json e = {{"event", "result"}, {"command", command}, {"ok", false}, {"error", why}};
  if (!data.empty()) e["data"] = std::move(data);  // e.g. each device's outcome of `send all`
  printer_.event(std::move(e), command + ": failed: " + why);
  return false;
}

void AgentShell::add(std::string name, std::string usage, std::size_t min_words, Handler run) {
  commands_.emplace(std::move(name), Entry{std::move(usage), min_words, std::move(run)});
}

void AgentShell::define_commands() {
  add("help", "help", 0, [this](const Words&) {
    print_help();
    return true;
  });
  add("quit", "quit", 0, [this](const Words&) {
    quit_ = true;
    return true;
  });
  add("devices", "devices", 0, [this](const Words&) {
    return show("devices", listing(eco_.devices(), card_json, card_text), "no devices yet");
  });
  add("battery", "battery LEVEL [charging]", 1, [this](const Words& w) {
    sdk::Battery b{std::stoi(w[1]), w.size() > 2 && w[2] == "charging"};
    return result("battery", wait_for([&](auto h) { eco_.report_status(b, h); }));
  });
  add("copy", "copy TEXT...", 1, [this](const Words& w) {
    return result("copy", wait_for([&](auto h) { eco_.copy_text(join(w, 1), h); }));
  });
  add("copy-file", "copy-file PATH [MIME]", 1, [this](const Words& w) {
    const std::string mime = w.size() > 2 ? w[2] : "application/octet-stream";
    return result("copy-file", wait_for([&](auto h) { eco_.copy_file(w[1], mime, h); }));
  });
  add("copy-image", "copy-image PATH [MIME]", 1, [this](const Words& w) {
    const auto bytes = read_file(w[1]);
    if (!bytes) return refuse("copy-image", "cannot read " + w[1]);
    const std::string mime = w.size() > 2 ? w[2] : "image/png";
    return result("copy-image", wait_for([&](auto h) { eco_.copy_image(mime, *bytes, h); }));
  });
  add("paste", "paste", 0, [this](const Words&) { return show_clipboard(); });
  add("notify", "notify TITLE [BODY] [--app APP] [--action ID:LABEL]... [--reply]", 1,
      [this](const Words& w) { return notify(w); });
  add("notifications", "notifications", 0, [this](const Words&) {
    return show("notifications",
                listing(eco_.notifications(), notification_json,
                        [](const sdk::Notification& n) {
                          return fmt::format("{}/{} {}: {} — {}", n.origin, n.id, n.app, n.title,
                                             n.body);
                        }),
                "no notifications");
  });
  add("dismiss", "dismiss ORIGIN ID", 2, [this](const Words& w) {
    return result("dismiss", wait_for([&](auto h) { eco_.dismiss_notification(w[1], w[2], h); }));
  });
  add("act", "act ORIGIN ID ACTION [TEXT...]", 3, [this](const Words& w) {
    return result("act", wait_for([&](auto h) {
                    eco_.act_on_notification(w[1], w[2], w[3], join(w, 4), h);
                  }));
  });
  add("activity", "activity APP TITLE URI [STATE-JSON]", 3, [this](const Words& w) {
    sdk::Activity a;
    a.app = w[1];
    a.title = w[2];
    a.uri = w[3];
    if (w.size() > 4) {
      a.state = json::parse(w[4], nullptr, false);
      if (a.state.is_discarded()) {
        return refuse("activity", "the state must be JSON (quote it: '{\"line\": 12}')");
      }
    }
    return result("activity", wait_for([&](auto h) { eco_.set_activity(a, h); }));
  });
  add("activity-end", "activity-end", 0, [this](const Words&) {
    return result("activity-end", wait_for([&](auto h) { eco_.clear_activity(h); }));
  });
  add("activities", "activities", 0, [this](const Words&) {
    return show("activities",
                listing(eco_.activities(), activity_json,
                        [](const sdk::Activity& a) {
                          return fmt::format("{}: {} \"{}\" {}", a.device_id, a.app, a.title,
                                             a.uri);
                        }),
                "no activities");
  });
  add("continue", "continue DEVICE", 1, [this](const Words& w) {
    auto [ec, a] = wait_for_value<sdk::Activity>([&](auto h) { eco_.continue_activity(w[1], h); });
    return result("continue", ec, ec ? json::object() : activity_json(a),
                  fmt::format("continuing {} \"{}\" {} from {} with state {}", a.app, a.title,
                              a.uri, w[1], a.state.dump()));
  });
  add("play", "play TITLE [TITLE...]", 1, [this](const Words& w) { return play(w); });
  add("media", "media", 0, [this](const Words&) {
    return show("media", listing(eco_.media(), media_json, media_text), "nothing playing");
  });
  add("control", "control DEVICE play|pause|toggle|next|previous|volume [VOLUME]", 2,
      [this](const Words& w) {
        std::optional<int> volume;
        if (w.size() > 3) volume = std::stoi(w[3]);
        auto [ec, m] = wait_for_value<sdk::NowPlaying>(
            [&](auto h) { eco_.control_media(w[1], w[2], volume, h); });
        return result("control", ec, ec ? json::object() : media_json(m), media_text(m));
      });
  add("ring", "ring DEVICE", 1, [this](const Words& w) {
    return result("ring", wait_for([&](auto h) { eco_.ring(w[1], false, h); }), {},
                  w[1] + " is ringing");
  });
  add("ring-stop", "ring-stop DEVICE", 1, [this](const Words& w) {
    return result("ring-stop", wait_for([&](auto h) { eco_.ring(w[1], true, h); }));
  });
  add("run", "run DEVICE COMMAND", 2, [this](const Words& w) {
    auto [ec, output] =
        wait_for_value<std::string>([&](auto h) { eco_.run_command(w[1], w[2], h); });
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return result("run", ec, {{"output", output}}, output);
  });
  add("share", "share DEVICE TEXT-OR-URL", 2, [this](const Words& w) {
    const std::string item = join(w, 2);
    const bool url = item.starts_with("http://") || item.starts_with("https://");
    return result("share",
                  wait_for([&](auto h) { eco_.share(w[1], url ? "" : item, url ? item : "", h); }));
  });
  add("send", "send DEVICE|all PATH [MIME]", 2, [this](const Words& w) { return send(w); });
  add("transfers", "transfers", 0, [this](const Words&) {
    return show("transfers",
                listing(eco_.transfers(), transfer_json,
                        [](const sdk::Transfer& t) {
                          return fmt::format("{} {} {} {} {}/{} {}", t.id,
                                             direction_name(t.direction), t.peer, t.name, t.bytes,
                                             t.size, state_name(t.state));
                        }),
                "no transfers");
  });
  add("cancel", "cancel TRANSFER", 1, [this](const Words& w) {
    eco_.cancel_transfer(w[1]);
    return result("cancel", {});
  });
}

void AgentShell::print_help() {
  std::string text = "commands:";
  json usages = json::array();
  for (const auto& [name, entry] : commands_) {
    text += "\n  " + entry.usage;
    usages.push_back(entry.usage);
  }
  printer_.event({{"event", "help"}, {"commands", usages}}, text);
}

bool AgentShell::show(const std::string& command, std::pair<json, std::string> items,
                      const std::string& when_empty) {
  auto& [all, text] = items;
  return result(command, {}, {{command, std::move(all)}}, text.empty() ? when_empty : text);
}

bool AgentShell::show_clipboard() {
  const auto item = eco_.clipboard();
  if (!item) return result("paste", {}, {{"empty", true}}, "the clipboard is empty");
  json data = {{"from", item->from}, {"mime", item->mime}, {"time", item->time}};
  if (item->is_text()) {
    data["text"] = item->text;
    return result("paste", {}, data, item->text);
  }
  data["name"] = item->name;
  data["size"] = item->data.size();
  return result("paste", {}, data,
                fmt::format("{} {} ({} bytes) from {}", item->mime, item->name, item->data.size(),
                            item->from));
}

bool AgentShell::notify(const Words& w) {
  sdk::Notification n;
  n.id =
      fmt::format("n{}", std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
  n.app = "agent";
  std::vector<std::string> plain;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "--app" && i + 1 < w.size()) {
      n.app = w[++i];
    } else if (w[i] == "--id" && i + 1 < w.size()) {
      n.id = w[++i];
    } else if (w[i] == "--action" && i + 1 < w.size()) {
      const std::string spec = w[++i];
      const auto colon = spec.find(':');
      n.actions.push_back(
          {spec.substr(0, colon), colon == std::string::npos ? spec : spec.substr(colon + 1)});
    } else if (w[i] == "--reply") {
      n.reply = true;
    } else {
      plain.push_back(w[i]);
    }
  }
  if (plain.empty()) {
    return refuse("notify", "a title is needed");
  }
  n.title = plain[0];
  n.body = join(plain, 1);
  return result("notify", wait_for([&](auto h) { eco_.post_notification(n, h); }), {{"id", n.id}},
                "posted notification " + n.id);
}

bool AgentShell::play(const Words& w) {
  sdk::NowPlaying now;
  {
    std::lock_guard lock(player_mutex_);
    playlist_.assign(w.begin() + 1, w.end());
    track_ = 0;
    player_.state = "playing";
    player_.title = playlist_.front();
    player_.position_ms = 0;
    player_.duration_ms = 180000;
    now = player_;
  }
  return result("play", wait_for([&](auto h) { eco_.publish_media(now, h); }), media_json(now),
                media_text(now));
}

std::optional<sdk::NowPlaying> AgentShell::control_player(const sdk::MediaControl& c) {
  std::lock_guard lock(player_mutex_);
  if (c.action == "play") {
    player_.state = "playing";
  } else if (c.action == "pause") {
    player_.state = "paused";
  } else if (c.action == "toggle") {
    player_.state = player_.state == "playing" ? "paused" : "playing";
  } else if ((c.action == "next" || c.action == "previous") && !playlist_.empty()) {
    const std::size_t n = playlist_.size();
    track_ = c.action == "next" ? (track_ + 1) % n : (track_ + n - 1) % n;
    player_.title = playlist_[track_];
    player_.position_ms = 0;
  } else if (c.action == "volume" && c.volume && *c.volume >= 0 && *c.volume <= 100) {
    player_.volume = *c.volume;
  } else {
    return std::nullopt;
  }
  printer_.event({{"event", "media-control"}, {"from", c.from}, {"action", c.action}},
                 c.action == "volume"
                     ? fmt::format("{} set the volume to {}", c.from, player_.volume)
                     : fmt::format("{} asked the player to {}", c.from, c.action));
  return player_;
}

bool AgentShell::send(const Words& w) {
  const std::string mime = w.size() > 3 ? w[3] : "application/octet-stream";
  if (w[1] == "all") {
    auto [ec, transfers] = wait_for_value<std::vector<sdk::Transfer>>(
        [&](auto h) { eco_.send_file_to_all(w[2], mime, h); });
    json all = json::array();
    for (const auto& t : transfers) all.push_back(transfer_json(t));
    return result("send", ec, {{"transfers", all}},
                  fmt::format("{} sent to {} devices", w[2], transfers.size()));
  }
  auto [ec, t] =
      wait_for_value<sdk::Transfer>([&](auto h) { eco_.send_file(w[1], w[2], mime, h); });
  return result("send", ec, transfer_json(t), fmt::format("{} sent to {}", w[2], w[1]));
}

}  // namespace allscene::app
