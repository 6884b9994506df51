#include "services/assistant/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace allscene::services::assistant {

namespace {

// Words the rules look for. Only a word outside this list is corrected,
// and only to a word of it, so free text ("sing a song") is left alone
// unless it is one slip from a keyword.
const std::set<std::string, std::less<>>& vocabulary() {
  static const std::set<std::string, std::less<>> words = {
      "play", "playing", "playback", "resume", "unpause", "pause", "stop", "music", "song", "track",
      "next", "skip", "previous", "back", "rewind", "replay", "volume", "louder", "quieter", "mute",
      "unmute", "raise", "lower", "increase", "decrease", "reduce", "ring", "find", "locate",
      "where", "beep", "buzz", "sound", "clipboard", "copied", "paste", "copy", "send", "share",
      "transfer", "file", "photo", "picture", "document", "continue", "hand", "handoff", "pick",
      "switch", "finish", "battery", "charged", "charge", "charging", "percentage", "translate",
      "translation", "remind", "reminder", "forget", "minutes", "minute", "hours", "hour",
      "tomorrow", "tonight", "morning", "evening", "afternoon", "flight", "flights", "flying",
      "devices", "device", "gadgets", "list", "connected", "online", "offline", "speaker",
      "speakers", "laptop", "computer", "tablet", "display", "screen", "watch", "phone", "living",
      "bedroom", "kitchen", "spanish", "french", "catalan", "english", "portuguese", "italian",
      "german", "when", "what", "which", "please", "monday", "tuesday", "wednesday", "thursday",
      "friday", "saturday", "sunday", "midnight",
      // Common words one letter from a keyword: known, so never "corrected".
      "change", "changed", "sing", "king", "rings", "thing", "things", "stock", "hole", "fine",
      "mile", "pile", "tile", "while", "back", "black", "track", "trick", "where", "there", "here",
      "were", "flights", "light", "lights", "fight", "night", "right", "might", "sight", "tight",
      "list", "last", "lost", "most", "must", "past", "post", "cast", "paste", "taste", "waste",
      "battle", "bottle", "phones", "photos", "range", "charge", "large", "stop", "step", "shop",
      "stay", "play", "plan", "plane", "place", "pay", "day", "say", "way", "may"};
  return words;
}

bool is_transposition(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  std::size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
         a.substr(i + 2) == b.substr(i + 2);
}

std::string correct(const std::string& word) {
  if (word.size() < 4 || vocabulary().contains(word)) return word;
  if (!std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isalpha(c); })) {
    return word;
  }
  // One candidate wins; among several, a swap of two letters (the
  // commonest slip) wins if it is the only one; otherwise do not guess.
  std::vector<std::string> close;
  std::vector<std::string> swapped;
  for (const auto& known : vocabulary()) {
    const bool swap = is_transposition(word, known);
    if (swap) swapped.push_back(known);
    const std::size_t gap =
        word.size() > known.size() ? word.size() - known.size() : known.size() - word.size();
    if (swap || (word.size() > 4 && gap <= 1 && edit_distance(word, known) == 1)) {
      close.push_back(known);
    }
  }
  if (close.size() == 1) return close.front();
  if (swapped.size() == 1) return swapped.front();
  return word;
}

bool is_edge_punctuation(char c) {
  return c == '.' || c == ',' || c == '?' || c == '!' || c == ':' || c == ';' || c == '"' ||
         c == '(' || c == ')';
}

Token make_token(std::string_view text, std::size_t begin, std::size_t end) {
  Token t;
  const std::size_t raw_end = end;
  while (begin < end && is_edge_punctuation(text[begin])) ++begin;
  while (end > begin && is_edge_punctuation(text[end - 1])) --end;
  for (std::size_t i = end; i < raw_end; ++i) {
    if (text[i] == ',' || text[i] == ':' || text[i] == ';') t.comma_after = true;
  }
  t.begin = begin;
  t.end = end;
  t.original = std::string(text.substr(begin, end - begin));
  std::string lower = to_lower(t.original);
  for (const std::string_view suffix : {"'s", "\u2019s"}) {
    if (lower.size() > suffix.size() + 2 && lower.ends_with(suffix) && lower != "what's" &&
        lower != "where's" && lower != "it's" && lower != "that's" && lower != "there's") {
      lower.resize(lower.size() - suffix.size());
      t.possessive = true;
    }
  }
  t.word = correct(lower);
  return t;
}

}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

Tokens tokenize(std::string_view text) {
  Tokens tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t begin = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (begin == i) break;
    Token t = make_token(text, begin, i);
    if (!t.original.empty()) {
      tokens.push_back(std::move(t));
    } else if (!tokens.empty() &&
               text.substr(begin, i - begin).find_first_of(",:;") != std::string_view::npos) {
      tokens.back().comma_after = true;
    }
  }
  return tokens;
}

std::string join_original(const Tokens& tokens, std::size_t first, std::size_t last) {
  std::string out;
  for (std::size_t i = first; i < last && i < tokens.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += tokens[i].original;
  }
  return out;
}

bool contains_word(const Tokens& tokens, std::string_view word) {
  return find_word(tokens, word) != std::string::npos;
}

std::size_t find_word(const Tokens& tokens, std::string_view word, std::size_t from) {
  for (std::size_t i = from; i < tokens.size(); ++i) {
    if (tokens[i].word == word) return i;
  }
  return std::string::npos;
}

bool phrase_at(const Tokens& tokens, std::size_t at, std::string_view phrase) {
  std::size_t i = at;
  while (!phrase.empty()) {
    const auto space = phrase.find(' ');
    const auto word = phrase.substr(0, space);
    if (i >= tokens.size() || tokens[i].word != word) return false;
    ++i;
    phrase = space == std::string_view::npos ? std::string_view{} : phrase.substr(space + 1);
  }
  return true;
}

std::size_t find_phrase(const Tokens& tokens, std::string_view phrase) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (phrase_at(tokens, i, phrase)) return i;
  }
  return std::string::npos;
}

}  // namespace allscene::services::assistant
