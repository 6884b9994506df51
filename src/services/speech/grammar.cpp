#include "services/speech/grammar.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

namespace allscene::services::speech {
namespace {

// The fallback loop's words: what the closed-slot requests are made of.
// Words missing from the dictionary are guessed like device names
// ("unmute" = "un" + "mute").
constexpr std::array kRequestWords = {
    // Actions and their objects.
    "play", "playing", "playback", "pause", "unpause", "resume", "stop", "start", "continue",
    "keep", "next", "previous", "last", "skip", "replay", "ahead", "forward", "back", "volume",
    "up", "down", "set", "turn", "change", "raise", "lower", "reduce", "increase", "decrease",
    "louder", "quieter", "loud", "mute", "unmute", "silence", "percent", "percentage", "level",
    "ring", "beep", "find", "locate", "lost", "leave", "left", "where", "where's", "battery",
    "charge", "charged", "full", "status", "check", "music", "song", "track", "sound",
    "clipboard", "copy", "copied", "text", "send", "share", "sync", "transfer", "move", "beam",
    "file", "open", "hand", "off", "pick", "finish", "doing", "going", "screen", "bigger",
    "flight", "fly", "upcoming", "list", "show", "devices", "gadgets", "online", "connected",
    "see", "tell", "give", "help", "want", "moment", "bit", "something", "over", "right", "hey",
    // Common function words.
    "a", "the", "my", "me", "i", "i'm", "it", "it's", "this", "that", "to", "too", "of", "on",
    "in", "at", "by", "for", "with", "and", "is", "are", "do", "does", "have", "what", "what's",
    "when", "which", "how", "much", "can", "could", "you", "please", "just", "now", "all", "go",
    "make", "one"};

// Nouns people use for devices, whatever their class is called.
constexpr std::array kDeviceNouns = {
    "device", "phone", "watch", "speaker", "headphones", "earbuds", "tablet", "laptop",
    "computer", "tv", "television", "buds", "headset", "smartwatch", "display", "tracker",
    "screen", "speakers", "mobile", "vehicle",
};

// The closed intents' phrasings as JSGF rules, from the assistant's parser
// (src/services/assistant/intents.cpp: the words that pick each intent) and
// the dev split's requests. <device> (a device by name or noun, built per
// owner), <where> ("on/in/to … <device>") and <number> are defined with the
// devices. Function words ("to", "the", "a") only stand where the parser
// expects them, which is what the loop of single words could not say.
constexpr std::string_view kIntentRules = R"(
<polite> = please | hey | can you [please] | could you [please] | would you [please]
  | will you | i want to | i'd like to | help me | just;
<end> = please | now | right now | for me | thanks | for a moment | for a bit | again;
<media_obj> = [the | my | this | that] (music | song | track | playback | audio | tunes)
  | some (music | songs | tunes) | a song | something | it;
<place> = <where> [<where>];
<play> = (play | resume | unpause | start | continue | keep | carry on) [playing | playback]
  [<media_obj>] [<device>] [<place>];
<pause> = (pause | stop | silence | hold) [playing | <media_obj> | <device>] [<place>]
  | put <device> on pause;
<next> = [play | go to | skip to | jump to] [the] next [song | track | one] [<place>]
  | skip [ahead | forward | this | it | <media_obj>] [<place>];
<previous> = [play | go back to | back to | go to | skip back to | replay] [the] (previous | last)
  [song | track | one] [<place>]
  | (go back | skip back | rewind) [a song | one] [<place>] | replay [<media_obj>] [<place>];
<volume_part> = <where> | up | down | to <number> [percent] | by <number> [percent]
  | at <number> [percent] | a bit | a little | louder | quieter | softer | all the way;
<volume_object> = <device> | it | the music | [the] volume;
<volume> = (set | change | turn | crank | put | raise | lower | reduce | increase | decrease)
  [the] volume <volume_part>*
  | (set | change | turn | put) <device> volume <volume_part>*
  | (turn | crank) <volume_object> (up | down) <volume_part>*
  | (turn | crank) (up | down) [<volume_object>] <volume_part>*
  | [the] volume <volume_part>*
  | make <volume_object> (louder | quieter | softer) <volume_part>*
  | (louder | quieter | softer) <volume_part>*
  | (mute | unmute) [<volume_object>] [<place>]
  | (it's | it is) too (loud | quiet) [<place>];
<ring> = (ring | find | locate | beep | buzz) [<device> | something] [<place>]
  | make <device> (ring | beep | buzz) | play a sound <where>
  | (where is | where's | where are | where did i leave) <device>
  | i (lost | can't find) <device>
  | (ring | find) something i lost [a | my] <noun>;
<battery_word> = [the | my] battery [level | status | life] | charge | charged | charging | percentage;
<battery_part> = is | is left | left | does | have | has | at | <device> | <where> | me | the;
<battery> = [what's | what is | how much | how | check | tell me | show me | give me | is]
  <battery_part>* <battery_word> <battery_part>*;
<clip_obj> = [the | my] clipboard | [the] copied text | what i [just] copied | it;
<clipboard> = [send | share | copy | move | sync | transfer | paste | put] <clip_obj> [<where>];
<file_obj> = [a | the | this | my | that] (file | files | photo | photos | picture | pictures
  | document | pdf);
<file> = (send | share | copy | move | beam | transfer | put) <file_obj> [over] [<where>];
<activity> = this | it | what (i'm | i am | i was) doing [<where>];
<handoff> = (continue | finish | open | move | switch | transfer) <activity> [from <device>] [<where>]
  [[on] [the] bigger screen] [<device>]
  | hand <activity> off <where> | hand off <where> | pick (this | it) up <where>
  | pick up where i left off <where> | keep going <where>;
<list_head> = list | show | show me | what | which | what's | give me | tell me;
<list_part> = [all] [my] (devices | gadgets) | a list of | are | is | connected | online | on
  | right now | can you see | do i have | of;
<device_list> = <list_head> <list_part>+;
<flight> = [what's | what is | when is | show | show me | check | tell me] [my] [next | upcoming]
  flight | when do i fly [next] | when does my flight leave;
<intent> = <play> | <pause> | <next> | <previous> | <volume> | <ring> | <battery> | <clipboard>
  | <file> | <handoff> | <device_list> | <flight>;
)";

constexpr std::array<std::string_view, 20> kUnits = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen"};
constexpr std::array<std::string_view, 10> kTens = {
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || c == '\''; }

// Lower-case runs of letters or of digits: "Galaxy S23" -> galaxy s 23.
std::vector<std::string> name_tokens(const std::string& name) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    // Apostrophes only inside a word ("mom's"), never alone or at its edges.
    while (!current.empty() && current.front() == '\'') current.erase(0, 1);
    while (!current.empty() && current.back() == '\'') current.pop_back();
    if (!current.empty()) tokens.push_back(current);
    current.clear();
  };
  for (char raw : name) {
    const char c = (raw >= 'A' && raw <= 'Z') ? static_cast<char>(raw - 'A' + 'a') : raw;
    const bool fits = !current.empty() && (is_digit(c) == is_digit(current.back()));
    if (!is_digit(c) && !is_letter(c)) {
      flush();
    } else {
      if (!current.empty() && !fits) flush();
      current += c;
    }
  }
  flush();
  return tokens;
}

std::string below_hundred(int n) {
  if (n < 20) return std::string(kUnits[static_cast<std::size_t>(n)]);
  std::string out(kTens[static_cast<std::size_t>(n / 10)]);
  if (n % 10 != 0) out += ' ' + std::string(kUnits[static_cast<std::size_t>(n % 10)]);
  return out;
}

// A device: by name or by kind, with the words that go before it.
constexpr std::string_view kDeviceRules = R"(
<device> = [the | my | your] (<name> | <noun>);
<where> = (on | in | to | with | of | at | for | into | onto) <device>;
)";

// A request: one intent's phrasing, perhaps after the device's name
// ("Kitchen display, pause") and politeness.
constexpr std::string_view kRequestRule = "[<name>] [<polite>] <intent> [<end>] [please]";
// The fallback: any sequence of the loop's words, names and numbers.
constexpr std::string_view kLooseRule = "(<word> | <name> | <number>)+";

// The words of JSGF rule text: everything outside <rule names> and
// /weights/ that is letters and apostrophes.
std::set<std::string> rule_words(std::string_view rules) {
  std::set<std::string> words;
  std::string current;
  char skip_until = 0;
  for (char c : rules) {
    if (skip_until != 0) {
      if (c == skip_until) skip_until = 0;
      continue;
    }
    if (is_letter(c)) {
      current += c;
      continue;
    }
    if (!current.empty()) words.insert(current);
    current.clear();
    if (c == '<') skip_until = '>';
    if (c == '/') skip_until = '/';
  }
  if (!current.empty()) words.insert(current);
  return words;
}

class Builder {
 public:
  explicit Builder(const Dictionary& dictionary) : dictionary_(dictionary) {}

  // Adds a word to the vocabulary; false if it cannot be pronounced.
  bool add_word(const std::string& word) {
    if (phones_.contains(word)) return true;
    auto guess = dictionary_.guess(word);
    if (!guess) {
      grammar_.dropped.push_back(word);
      return false;
    }
    if (guess->source != Dictionary::Source::dictionary) {
      grammar_.guessed.push_back(
          word + (guess->source == Dictionary::Source::compound ? " (compound)" : " (spelled)"));
    }
    phones_[word] = guess->phones;
    return true;
  }

  // The spoken words of a device name, each added to the vocabulary.
  std::string spoken_name(const std::string& name) {
    std::string spoken;
    for (const auto& token : name_tokens(name)) {
      std::string words = is_digit(token.front()) ? number_words(token) : token;
      std::istringstream split(words);
      for (std::string word; split >> word;) {
        if (!add_word(word)) continue;
        if (!spoken.empty()) spoken += ' ';
        spoken += word;
      }
    }
    return spoken;
  }

  // `phrases`: the devices' spoken names; `nouns`: words that name a
  // device by kind; `loose`: the fallback loop's single words.
  CommandGrammar finish(const std::set<std::string>& phrases, const std::set<std::string>& nouns,
                        const std::set<std::string>& loose, const WordWeights& weights) {
    for (int n = 0; n < 20; ++n) add_word(std::string(kUnits[static_cast<std::size_t>(n)]));
    for (int t = 2; t < 10; ++t) add_word(std::string(kTens[static_cast<std::size_t>(t)]));
    add_word("hundred");
    for (const auto& word : rule_words(kIntentRules)) add_word(word);
    for (const auto& word : rule_words(kDeviceRules)) add_word(word);
    std::ostringstream g;
    g << "#JSGF V1.0;\ngrammar allscene;\n";
    g << "<digit> = one | two | three | four | five | six | seven | eight | nine;\n";
    g << "<number> = zero | <digit> | ten | eleven | twelve | thirteen | fourteen | fifteen"
         " | sixteen | seventeen | eighteen | nineteen"
         " | (twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety) [<digit>]"
         " | (one | a) hundred;\n";
    g << "<name> = " << alternatives(phrases) << ";\n";
    g << "<noun> = " << alternatives(nouns) << ";\n";
    g << kDeviceRules << kIntentRules;
    g << "<word> = " << weighted(loose, weights) << ";\n";
    const std::string body = g.str();
    grammar_.jsgf = body + "public <request> = " + std::string(kRequestRule) + ";\n";
    grammar_.fallback_jsgf = body + "public <request> = " + std::string(kLooseRule) + ";\n";
    for (auto& [word, phones] : phones_) grammar_.words.emplace_back(word, phones);
    return std::move(grammar_);
  }

  CommandGrammar& grammar() { return grammar_; }

 private:
  static std::string alternatives(const std::set<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
      if (!out.empty()) out += " | ";
      out += item;
    }
    return out;
  }

  static std::string weighted(const std::set<std::string>& items, const WordWeights& weights) {
    std::string out;
    for (const auto& item : items) {
      auto it = weights.find(item);
      const double w = it == weights.end() ? kUnlistedWeight : it->second;
      if (!out.empty()) out += " | ";
      out += fmt::format("/{:.3g}/ {}", w, item);
    }
    return out;
  }

  const Dictionary& dictionary_;
  std::map<std::string, std::string> phones_;
  CommandGrammar grammar_;
};

}  // namespace

std::string number_words(const std::string& digits) {
  const auto start = digits.find_first_not_of('0');
  if (start == std::string::npos) return "zero";
  if (digits.size() - start <= 3) {
    const int n = std::stoi(digits.substr(start));
    if (n < 100) return below_hundred(n);
    std::string out = std::string(kUnits[static_cast<std::size_t>(n / 100)]) + " hundred";
    if (n % 100 != 0) out += ' ' + below_hundred(n % 100);
    return out;
  }
  std::string out;
  for (char d : digits) {
    if (!out.empty()) out += ' ';
    out += kUnits[static_cast<std::size_t>(d - '0')];
  }
  return out;
}

std::vector<std::string> request_vocabulary() {
  std::vector<std::string> words(kRequestWords.begin(), kRequestWords.end());
  words.insert(words.end(), kDeviceNouns.begin(), kDeviceNouns.end());
  return words;
}

CommandGrammar build_command_grammar(const std::vector<DeviceName>& devices,
                                     const Dictionary& dictionary, const WordWeights& weights) {
  Builder builder(dictionary);
  std::set<std::string> loose;
  std::set<std::string> nouns;
  auto add_loose = [&](const std::string& word) {
    if (builder.add_word(word)) loose.insert(word);
  };
  auto add_noun = [&](const std::string& word) {
    if (builder.add_word(word)) nouns.insert(word), loose.insert(word);
  };
  for (const char* word : kRequestWords) add_loose(word);
  for (const char* word : kDeviceNouns) add_noun(word);

  std::set<std::string> phrases;
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& device : devices) {
    for (const auto& token : name_tokens(device.device_class)) {
      if (!is_digit(token.front())) add_noun(token);
    }
    const std::string spoken = builder.spoken_name(device.name);
    if (spoken.empty()) continue;
    // Its leading words alone too ("the bedroom", "the living room"); not
    // its other words, which are mostly nouns already listed, and short
    // ones like "tab" then swallow "to".
    std::istringstream parts(spoken);
    std::string prefix;
    for (std::string part; parts >> part;) {
      if (!prefix.empty()) phrases.insert(prefix);
      prefix += prefix.empty() ? part : ' ' + part;
    }
    phrases.insert(spoken);
    names.emplace_back(spoken, device.name);
  }
  if (phrases.empty()) phrases.insert("device");  // a rule may not be empty
  std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) {
    return a.first.size() > b.first.size();
  });
  CommandGrammar grammar = builder.finish(phrases, nouns, loose, weights);
  grammar.names = std::move(names);
  return grammar;
}

namespace {

int unit_value(std::string_view word) {
  for (std::size_t i = 0; i < kUnits.size(); ++i) {
    if (kUnits[i] == word) return static_cast<int>(i);
  }
  return -1;
}

int tens_value(std::string_view word) {
  for (std::size_t i = 2; i < kTens.size(); ++i) {
    if (kTens[i] == word) return static_cast<int>(i) * 10;
  }
  return -1;
}

// Reads a number 0–999 starting at words[i]; returns its value and how many
// words it took (0 if none).
std::pair<int, std::size_t> read_number(const std::vector<std::string>& words, std::size_t i) {
  int value = 0;
  std::size_t used = 0;
  auto at = [&](std::size_t k) -> std::string_view {
    return k < words.size() ? std::string_view(words[k]) : std::string_view();
  };
  if (at(i) == "a" && at(i + 1) == "hundred") return {100, 2};
  if (int u = unit_value(at(i)); u >= 1 && u <= 9 && at(i + 1) == "hundred") {
    value = u * 100;
    used = 2;
  }
  if (int t = tens_value(at(i + used)); t > 0) {
    value += t;
    ++used;
    if (int u = unit_value(at(i + used)); u >= 1 && u <= 9) {
      value += u;
      ++used;
    }
  } else if (int u = unit_value(at(i + used)); u >= 0 && !(used > 0 && u == 0)) {
    value += u;
    ++used;
  }
  return {value, used};
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool starts_with_words(const std::vector<std::string>& words, std::size_t i,
                       const std::vector<std::string>& phrase) {
  if (phrase.empty() || i + phrase.size() > words.size()) return false;
  return std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(i));
}

}  // namespace

std::string restore_names_and_numbers(const std::string& text, const CommandGrammar& grammar) {
  const auto words = split_words(text);
  std::vector<std::pair<std::vector<std::string>, std::string>> names;
  for (const auto& [spoken, written] : grammar.names) names.emplace_back(split_words(spoken), written);
  std::string out;
  auto emit = [&out](const std::string& piece) {
    if (!out.empty()) out += ' ';
    out += piece;
  };
  for (std::size_t i = 0; i < words.size();) {
    auto name = std::find_if(names.begin(), names.end(),
                             [&](const auto& n) { return starts_with_words(words, i, n.first); });
    if (name != names.end()) {
      emit(name->second);
      i += name->first.size();
    } else if (auto [value, used] = read_number(words, i); used > 0) {
      emit(std::to_string(value));
      i += used;
    } else {
      emit(words[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace allscene::services::speech
