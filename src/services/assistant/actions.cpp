#include "services/assistant/actions.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <map>
#include <memory>

#include "services/assistant/languages.hpp"
#include "services/assistant/when.hpp"

namespace allscene::services::assistant {

namespace {

using nlohmann::json;

// A string member of JSON that came from a device or another service: its
// shape is not ours to trust.
std::string str(const json& j, const char* key, std::string fallback = "") {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

const DeviceInfo* find_device(const ActionContext& c, const std::string& id) {
  for (const auto& d : c.devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

bool has(const DeviceInfo& d, std::string_view capability) {
  return std::find(d.capabilities.begin(), d.capabilities.end(), capability) !=
         d.capabilities.end();
}

std::string when_seen(const ActionContext& c, const DeviceInfo& d) {
  if (d.last_seen == std::chrono::system_clock::time_point{}) return "";
  const auto local = date::make_zoned(&c.zone, date::floor<std::chrono::minutes>(d.last_seen));
  return date::format(" (last seen %a %d %b at %H:%M)", local);
}

std::string offline_answer(const ActionContext& c, const DeviceInfo& d, std::string_view what) {
  return fmt::format("{} is offline{}, so I can't {} it now.", d.name, when_seen(c, d), what);
}

// A failed method as a sentence: offline (404 from the hub), no answer
// (504), or what the device said.
std::string failure_answer(const ActionContext& c, const DeviceInfo& d, const Reply& r,
                           std::string_view what) {
  if (r.status == 404 && !d.online) return offline_answer(c, d, what);
  if (r.status == 404)
    return fmt::format("{} can't {} (it does not take that request).", d.name, what);
  if (r.status == 504)
    return fmt::format("{} did not answer in time, so I can't {} it.", d.name, what);
  const std::string said = str(r.body, "error", str(r.body, "message"));
  return fmt::format("{} refused to {}{}.", d.name, what, said.empty() ? "" : ": " + said);
}

Outcome media(const ActionContext& c, const DeviceInfo& d, const ParseResult& p) {
  static const std::map<std::string, std::pair<std::string, std::string>> kActions = {
      {"media.play", {"play", "play on"}},
      {"media.pause", {"pause", "pause"}},
      {"media.next", {"next", "skip on"}},
      {"media.previous", {"previous", "go back on"}},
      {"media.volume", {"volume", "set the volume of"}}};
  const auto& [action, verb] = kActions.at(p.intent);
  if (!has(d, "media")) return {fmt::format("{} has no media player I can control.", d.name)};
  json payload{{"action", action}};
  if (p.intent == "media.volume") {
    if (!p.slots.contains("volume")) {
      return {
          fmt::format("I can only set {}'s volume to a number (the hub cannot read its "
                      "current volume): say, for example, \"set the volume to 40\".",
                      d.name)};
    }
    payload["volume"] = p.slots["volume"];
  }
  const Reply r = invoke_and_wait(c, d.id, "media.control", payload);
  if (!r.ok()) return {failure_answer(c, d, r, verb)};
  Outcome o{"", true, {{"media", r.body}}};
  const std::string title = str(r.body, "title");
  const std::string on = title.empty() ? d.name : fmt::format("\"{}\" on {}", title, d.name);
  if (action == "play") o.answer = fmt::format("Playing {}.", on);
  if (action == "pause") o.answer = fmt::format("Paused {}.", d.name);
  if (action == "next") o.answer = fmt::format("Skipped to the next track: {}.", on);
  if (action == "previous") o.answer = fmt::format("Back to the previous track: {}.", on);
  if (action == "volume") {
    o.answer = fmt::format("{}'s volume is now {}.", d.name, payload["volume"].get<int>());
  }
  return o;
}

Outcome ring(const ActionContext& c, const DeviceInfo& d) {
  if (!d.online) {
    std::string battery = d.battery >= 0 ? fmt::format(", battery {}%", d.battery) : "";
    return {fmt::format("{} is offline{}{}, so it cannot ring.", d.name, when_seen(c, d), battery)};
  }
  const Reply r = invoke_and_wait(c, d.id, "ring", json::object());
  if (!r.ok()) return {failure_answer(c, d, r, "ring")};
  return {fmt::format("Ringing {}.", d.name), true};
}

Outcome battery(const ActionContext& c, const DeviceInfo& d) {
  if (d.battery < 0) return {fmt::format("{} does not report its battery.", d.name)};
  std::string answer = fmt::format("{}'s battery is at {}%", d.name, d.battery);
  if (!d.online) answer += fmt::format(" as last reported; it is offline{}", when_seen(c, d));
  return {answer + ".", true, {{"battery", d.battery}}};
}

Outcome clipboard(const DeviceInfo& d) {
  // The hub keeps the shared clipboard (users/{u}/clipboard, retained):
  // every device that takes part already has it; there is nothing to push.
  if (!has(d, "clipboard")) {
    return {
        fmt::format("{} does not take part in the shared clipboard (it opted out or cannot), "
                    "so I can't put your clipboard there.",
                    d.name)};
  }
  return {fmt::format("Your clipboard is shared with {} already: paste it there.", d.name), true};
}

Outcome file(const ActionContext& c, const DeviceInfo& d) {
  if (!has(d, "files")) return {fmt::format("{} cannot receive files.", d.name)};
  const DeviceInfo* from = find_device(c, c.caller.device_id);
  return {
      fmt::format("I can't send files from the hub: a file goes from the device that has it. "
                  "On {}, share it to {} (in the device agent: send {} FILE).",
                  from ? from->name : "the device that has the file", d.name, d.id)};
}

Outcome handoff(const ActionContext& c, const DeviceInfo& target, const ParseResult& p) {
  const std::string source_id = p.slots.value("source", "");
  const DeviceInfo* source = find_device(c, source_id);
  if (!source) {
    return {
        "Which device should I continue from? Say, for example, \"continue the laptop's "
        "activity on the tablet\"."};
  }
  if (source->id == target.id) return {fmt::format("That is already on {}.", target.name)};
  if (!target.online) return {offline_answer(c, target, "continue anything on")};
  const Reply taken = invoke_and_wait(c, source->id, "handoff.take", json::object());
  if (taken.status == 404 && source->online) {
    return {fmt::format("{} has nothing to continue right now.", source->name)};
  }
  if (!taken.ok()) return {failure_answer(c, *source, taken, "hand over from")};
  const json& activity = taken.body;
  const std::string title = str(activity, "title", "the activity");
  Outcome o{"", true, {{"activity", activity}}};
  if (target.id == c.caller.device_id) {
    o.answer = fmt::format("Continuing \"{}\" here.", title);
    return o;
  }
  // No method opens an activity on another device; its link does.
  const std::string uri = str(activity, "uri");
  const Reply shared = invoke_and_wait(c, target.id, "share", json{{"url", uri}});
  if (!shared.ok()) {
    o.done = false;
    o.answer = fmt::format("\"{}\" ended on {} but {} did not take its link: {}", title,
                           source->name, target.name, uri);
    return o;
  }
  o.answer = fmt::format("Sent \"{}\" to {}: open it there.", title, target.name);
  return o;
}

Outcome translate(const ActionContext& c, const ParseResult& p) {
  const std::string text = p.slots.value("text", "");
  const std::string to = p.slots.value("language", "");
  if (text.empty()) return {"What should I translate?"};
  std::string from = p.slots.value("from", "");
  if (from.empty() && to != "en") from = "en";
  if (from.empty()) {
    return {
        fmt::format("Which language is \"{}\" in? Say, for example, translate \"{}\" from "
                    "Spanish to English.",
                    text, text)};
  }
  const Reply r = c.hub.call(c.caller, "translation", "translate",
                             json{{"from", from}, {"to", to}, {"text", text}});
  if (!r.ok()) {
    return {fmt::format("I couldn't translate that: {}", str(r.body, "message",
                                                             "the translation "
                                                             "service failed")),
            false,
            {{"error", r.body}}};
  }
  const std::string translation = str(r.body, "text");
  return {fmt::format("In {}: \"{}\"", language_name(to), translation),
          true,
          {{"translation", translation}}};
}

Outcome remind(const ActionContext& c, const ParseResult& p) {
  const std::string text = p.slots.value("text", "");
  if (!p.slots.contains("time")) return {fmt::format("When should I remind you to {}?", text)};
  const std::string at = p.slots["time"];
  const Reply r = c.hub.call(c.caller, "travel", "remind", json{{"at", at}, {"text", text}});
  if (!r.ok()) {
    return {fmt::format("I couldn't set the reminder: {}",
                        str(r.body, "message", "the travel service failed")),
            false,
            {{"error", r.body}}};
  }
  // "2026-11-24T19:00:00+01:00" is already in the owner's zone.
  const std::string when =
      at.size() >= 16 ? fmt::format("{} on {}", at.substr(11, 5), at.substr(0, 10)) : at;
  return {fmt::format("I'll remind you at {}: {}.", when, text), true, {{"reminder", r.body}}};
}

std::string describe_flight(const json& f) {
  std::string s = str(f, "number", "Your flight");
  if (f.contains("from") && f.contains("to")) {
    s += fmt::format(" from {} to {}", str(f, "from", ""), str(f, "to", ""));
  }
  if (f.contains("departure")) s += fmt::format(" leaves at {}", str(f, "departure", ""));
  if (f.contains("gate")) s += fmt::format(", gate {}", str(f, "gate", ""));
  return s + ".";
}

Outcome next_flight(const ActionContext& c) {
  const Reply r = c.hub.call(c.caller, "travel", "next_flight", json::object());
  if (!r.ok()) {
    return {fmt::format("I couldn't look up your flights: {}",
                        str(r.body, "message", "the travel service failed")),
            false,
            {{"error", r.body}}};
  }
  const json flight = r.body.is_object() ? r.body.value("flight", json()) : json();
  if (!flight.is_object()) return {"You have no upcoming flights.", true, {{"flight", nullptr}}};
  return {"Your next flight: " + describe_flight(flight), true, {{"flight", flight}}};
}

Outcome list(const ActionContext& c) {
  json devices = json::array();
  std::string answer = fmt::format("You have {} devices:", c.devices.size());
  for (std::size_t i = 0; i < c.devices.size(); ++i) {
    const auto& d = c.devices[i];
    devices.push_back({{"id", d.id},
                       {"name", d.name},
                       {"class", d.device_class},
                       {"online", d.online},
                       {"battery", d.battery}});
    answer += fmt::format("{} {} ({})", i == 0 ? "" : ";", d.name, d.online ? "online" : "offline");
  }
  return {answer + ".", true, {{"devices", devices}}};
}

constexpr std::string_view kUnknown =
    "Sorry, I can't help with that. I can play, pause and skip music, set the volume, ring a "
    "device, continue what you are doing on another device, tell a device's battery, "
    "translate, set reminders and tell you your next flight.";

}  // namespace

Reply invoke_and_wait(const ActionContext& c, const std::string& device_id,
                      const std::string& method, json payload) {
  // As a group call would carry it (docs/protocol.md): the device that
  // asked, or the assistant itself for a REST caller.
  payload["from"] = c.caller.device_id.empty() ? "assistant" : c.caller.device_id;
  const auto timeout = c.device_timeout;
  // Shared: the hub may call back after we stopped waiting.
  auto promise = std::make_shared<std::promise<Reply>>();
  auto future = promise->get_future();
  c.hub.invoke(device_id, method, std::move(payload), timeout,
               [promise](Reply r) { promise->set_value(std::move(r)); });
  if (future.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready) {
    return Reply::error(504, "timeout", "the device did not answer in time");
  }
  return future.get();
}

Outcome act(const ActionContext& c, const ParseResult& p) {
  const std::string& intent = p.intent;
  if (intent == "translate") return translate(c, p);
  if (intent == "reminder.create") return remind(c, p);
  if (intent == "travel.next_flight") return next_flight(c);
  if (intent == "device.list") return list(c);
  const DeviceInfo* d = find_device(c, p.slots.value("device", ""));
  if (!d) return {std::string(kUnknown)};
  if (intent.starts_with("media.")) return media(c, *d, p);
  if (intent == "device.ring") return ring(c, *d);
  if (intent == "device.battery") return battery(c, *d);
  if (intent == "clipboard.send") return clipboard(*d);
  if (intent == "file.send") return file(c, *d);
  if (intent == "handoff.continue") return handoff(c, *d, p);
  return {std::string(kUnknown)};
}

}  // namespace allscene::services::assistant
