// The closed-slot request grammar, built at run time from the owner's
// devices. Two JSGF grammars over one vocabulary:
//   - `jsgf`, the structured one: one rule per closed intent (media
//     play/pause/next/previous/volume, ring, battery, clipboard, file,
//     handoff, device list, next flight), with the phrasings the assistant's
//     parser understands: "[<polite>] (skip to | play) the next song
//     [on <device>]", "set the volume of <device> to <number>", … where
//     <device> is [the | my | your] and a device's name or a noun for its
//     kind (built-in nouns and the devices' classes), and <number> 0–100 in
//     words. Function words ("to", "the", "on") only stand where a phrasing
//     has them, so "to the tablet" cannot be heard as "does a tablet".
//   - `fallback_jsgf`: any sequence (weighted by how common each word is,
//     see WordWeights) of request words, device nouns and classes, names and
//     numbers, for audio the structured rules cannot end on.
//
// Device names are split into tokens; digits become number words
// ("Pixel 7" is said "pixel seven"; "S23" is "s twenty three"); tokens the
// dictionary lacks get a guessed pronunciation (Dictionary::guess) and are
// listed in `guessed`. Pure; any thread.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "services/speech/dictionary.hpp"

namespace allscene::services::speech {

struct DeviceName {
  std::string name;          // as the owner wrote it: "Pixel 7"
  std::string device_class;  // "phone", "wearable", … (may be empty)
};

struct CommandGrammar {
  // The structured request rules (one phrasing per closed intent).
  std::string jsgf;
  // Any sequence of request words, names and numbers: decoded only when
  // audio fits no structured phrasing (the structured search ends empty).
  std::string fallback_jsgf;
  // Every word the grammar uses, with one pronunciation each; the decoder's
  // whole dictionary.
  std::vector<std::pair<std::string, std::string>> words;
  // A device's spoken words ("pixel seven") and its written name ("Pixel 7"),
  // longest first, for putting names back into recognised text.
  std::vector<std::pair<std::string, std::string>> names;
  // Tokens whose pronunciation was guessed, as "token (compound|spelled)".
  std::vector<std::string> guessed;
  // Tokens left out because no pronunciation could be made.
  std::vector<std::string> dropped;
};

// How likely each word is in English (unigram probabilities of the general
// language model). The grammar's alternatives carry them as JSGF weights,
// so a sound between "to" and "does" goes to the far more common "to".
// Words not listed get kUnlistedWeight.
using WordWeights = std::unordered_map<std::string, double>;
inline constexpr double kUnlistedWeight = 1e-4;

// The request words and device nouns every grammar has (for weighting).
std::vector<std::string> request_vocabulary();

CommandGrammar build_command_grammar(const std::vector<DeviceName>& devices,
                                     const Dictionary& dictionary,
                                     const WordWeights& weights = {});

// The words of a number 0–999 ("twenty five"); larger numbers digit by digit.
std::string number_words(const std::string& digits);

// Recognised command text made readable for the parser: device names back
// as written, number words as digits ("volume to twenty five on pixel
// seven" -> "volume to 25 on Pixel 7").
std::string restore_names_and_numbers(const std::string& words, const CommandGrammar& grammar);

}  // namespace allscene::services::speech
