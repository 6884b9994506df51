// The assistant's language understanding: a typed or recognised request
// and the owner's devices in, an intent and its slots out, with the target
// device resolved (or the candidates when the request is ambiguous).
// Rule-based, no models, no network. Pure; thread-safe.
//
// Slots (exactly what tests/data/assistant/eval.jsonl labels):
//   device     the resolved target device id
//   ambiguous  sorted candidate ids when the words fit several devices, or
//              none was named and the intent has no default
//   source     handoff.continue: the device the activity comes from
//   volume     0–100 (media.volume, absolute)
//   direction  "up" | "down" (media.volume, relative); step: by how much
//   text       translate: the text; reminder.create: what to remind of
//   language   translate: target language code; from: source code
//   time       reminder.create: ISO 8601 with the zone's offset
//   file       file.send: the file the request names ("report.pdf")
// Defaults when no device is named: media and battery requests act on the
// calling device; ring, clipboard, file and handoff ask which device.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "services/service.hpp"

namespace date {
class time_zone;
}

namespace allscene::services::assistant {

struct ParseContext {
  std::vector<DeviceInfo> devices;  // the owner's
  std::string caller_device;        // the device that asked; empty if none
  std::chrono::system_clock::time_point now;
  const date::time_zone* zone = nullptr;  // the owner's; must not be null
};

struct ParseResult {
  std::string intent;  // see intents.hpp; "unknown" when out of scope
  nlohmann::json slots = nlohmann::json::object();
};

ParseResult parse(std::string_view text, const ParseContext& context);

// The capability a device needs for `intent` ("media", "find",
// "clipboard", "files", "handoff"), or "" if none.
std::string_view capability_for(std::string_view intent);

}  // namespace allscene::services::assistant
