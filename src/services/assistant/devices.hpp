// Where a request names one of the owner's devices: by its name ("Galaxy
// Tab", "the bedroom speaker", "the living room") or its class ("my
// phone", "the computer", "the speaker"). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/assistant/text.hpp"
#include "services/service.hpp"

namespace allscene::services::assistant {

struct Mention {
  std::size_t first = 0;  // tokens [first, last)
  std::size_t last = 0;
  std::vector<std::string> candidates;  // device ids it fits, sorted
};

// The mentions in `tokens`, in order. Each token that is a word of a
// device's name or a word for its class starts or extends a mention; words
// that fit the same devices join even across a few words ("the speaker in
// the bedroom"), words that fit none in common stay apart ("from the
// tablet to the laptop").
std::vector<Mention> find_mentions(const Tokens& tokens, const std::vector<DeviceInfo>& devices);

// The answer to "Which speaker: Bedroom speaker or Living room speaker?"
// ("the bedroom one", "living room", "the second") among `candidates`, in
// the order they were offered; nullopt unless exactly one fits.
std::optional<std::string> choose(std::string_view reply,
                                  const std::vector<DeviceInfo>& candidates);

// Words meaning the device's class ("phone" for "phone": phone, mobile,
// smartphone, cell).
bool is_class_word(std::string_view device_class, std::string_view word);

}  // namespace allscene::services::assistant
