#include "services/assistant/intents.hpp"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "services/assistant/languages.hpp"

namespace allscene::services::assistant {

namespace {

bool any_word(const Tokens& t, std::initializer_list<std::string_view> words) {
  return std::any_of(t.begin(), t.end(), [&](const Token& token) {
    return std::find(words.begin(), words.end(), token.word) != words.end();
  });
}

bool any_phrase(const Tokens& t, std::initializer_list<std::string_view> phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](std::string_view p) { return find_phrase(t, p) != std::string::npos; });
}

bool has_media_word(const Tokens& t) {
  return any_word(t, {"music", "song", "songs", "track", "playing", "playback", "play"});
}

bool is_translate(const Tokens& t) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!language_code(t[i].word)) continue;
    if (any_word(t, {"translate", "translation", "say", "mean", "for"})) return true;
    if (i > 0 && (t[i - 1].word == "in" || t[i - 1].word == "into" || t[i - 1].word == "to")) {
      return true;
    }
  }
  return false;
}

bool is_reminder(const Tokens& t) {
  return any_word(t, {"remind", "reminder", "reminders"}) || any_phrase(t, {"forget to"});
}

bool is_flight(const Tokens& t) { return any_word(t, {"flight", "flights", "fly", "flying"}); }

bool is_device_list(const Tokens& t) {
  return any_word(t, {"devices", "gadgets"}) ||
         any_phrase(t, {"what's connected", "what is connected"});
}

bool is_clipboard(const Tokens& t) { return any_word(t, {"clipboard", "copied", "paste"}); }

bool is_file(const Tokens& t) {
  const bool thing =
      any_word(t, {"file", "files", "photo", "photos", "picture", "pictures", "document", "pdf",
                   "doc"}) ||
      std::any_of(t.begin(), t.end(), [](const Token& x) { return looks_like_file_name(x.word); });
  return thing && any_word(t, {"send", "transfer", "share", "move", "beam", "copy", "put"});
}

bool is_battery(const Tokens& t) {
  return any_word(t, {"battery", "charged", "charge", "charging", "percentage"});
}

bool is_ring(const Tokens& t) {
  return any_word(t, {"ring", "find", "locate", "beep", "buzz", "lost", "sound", "where's"}) ||
         any_phrase(t, {"where is", "where did", "where are"});
}

bool is_volume(const Tokens& t) {
  if (any_word(t, {"volume", "louder", "quieter", "mute", "unmute", "loud"})) return true;
  return any_word(t, {"turn", "crank"}) && any_word(t, {"up", "down"});
}

bool is_previous(const Tokens& t) {
  return any_word(t, {"previous", "rewind", "replay"}) ||
         any_phrase(t, {"go back", "back one", "skip back", "back to the", "last song",
                        "last track", "back a song"});
}

bool is_next(const Tokens& t) { return any_word(t, {"next", "skip"}); }

bool is_pause(const Tokens& t) {
  return any_word(t, {"pause", "stop", "hold", "silence"}) || any_phrase(t, {"on pause"});
}

bool is_handoff(const Tokens& t) {
  if (has_media_word(t)) return false;
  return any_word(t, {"continue", "handoff"}) ||
         any_phrase(
             t, {"hand off", "hand this", "pick this up", "pick up where", "move this", "move what",
                 "transfer what", "open this", "finish this", "switch this", "keep going"});
}

// "play chess with me" is not about media: a play request may hold only
// these words besides the device.
bool only_media_words(const Tokens& t, const std::vector<bool>& device_words) {
  static constexpr std::string_view kAllowed[] = {
      "play",     "playing", "playback", "resume", "unpause",   "start", "hit",   "carry", "keep",
      "continue", "music",   "song",     "songs",  "something", "the",   "a",     "some",  "my",
      "me",       "please",  "can",      "could",  "you",       "in",    "on",    "to",    "again",
      "back",     "up",      "hey",      "now",    "would",     "your",  "audio", "tunes"};
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (device_words[i] || t[i].word == "here") continue;
    if (std::find(std::begin(kAllowed), std::end(kAllowed), t[i].word) == std::end(kAllowed)) {
      return false;
    }
  }
  return true;
}

bool is_play(const Tokens& t, const std::vector<bool>& device_words) {
  const bool verb = any_word(t, {"play", "playing", "resume", "unpause"}) ||
                    (any_word(t, {"start", "continue", "carry", "keep"}) && has_media_word(t)) ||
                    (any_word(t, {"start", "continue"}) && any_word(t, {"music", "playback"}));
  return verb && only_media_words(t, device_words);
}

}  // namespace

bool looks_like_file_name(std::string_view word) {
  const auto dot = word.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const auto ext = word.substr(dot + 1);
  return ext.size() >= 2 && ext.size() <= 5 &&
         std::all_of(ext.begin(), ext.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::string classify(const Tokens& t, const std::vector<bool>& device_words) {
  if (t.empty()) return "unknown";
  if (is_translate(t)) return "translate";
  if (is_reminder(t)) return "reminder.create";
  if (is_flight(t)) return "travel.next_flight";
  if (is_device_list(t)) return "device.list";
  if (is_clipboard(t)) return "clipboard.send";
  if (is_file(t)) return "file.send";
  if (is_battery(t)) return "device.battery";
  if (is_ring(t)) return "device.ring";
  if (is_volume(t)) return "media.volume";
  if (is_previous(t)) return "media.previous";
  if (is_next(t)) return "media.next";
  if (is_pause(t)) return "media.pause";
  if (is_handoff(t)) return "handoff.continue";
  if (is_play(t, device_words)) return "media.play";
  return "unknown";
}

}  // namespace allscene::services::assistant
