// Which of the assistant's intents a request is, from its words alone
// (devices and slots come after). Rules in a fixed order, first match
// wins; see docs/services/assistant.md for the table. Pure; thread-safe.
#pragma once

#include <string>

#include "services/assistant/text.hpp"

namespace allscene::services::assistant {

// One of media.play, media.pause, media.next, media.previous,
// media.volume, device.ring, clipboard.send, file.send, handoff.continue,
// device.battery, translate, reminder.create, travel.next_flight,
// device.list, or "unknown". `device_words` marks tokens that name a
// device (they do not count as leftover words of a "play" request).
std::string classify(const Tokens& tokens, const std::vector<bool>& device_words);

// Does a token look like a file name ("report.pdf")?
bool looks_like_file_name(std::string_view word);

}  // namespace allscene::services::assistant
