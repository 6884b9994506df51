#include "services/assistant/parser.hpp"

#include <algorithm>
#include <optional>

#include "services/assistant/devices.hpp"
#include "services/assistant/intents.hpp"
#include "services/assistant/languages.hpp"
#include "services/assistant/numbers.hpp"
#include "services/assistant/text.hpp"
#include "services/assistant/when.hpp"

namespace allscene::services::assistant {

namespace {

using nlohmann::json;

struct Quote {
  std::size_t begin = 0;  // of the opening quote
  std::size_t end = 0;    // after the closing quote
  std::string inner;
};

// "…", “…” or '…' (a single quote only at a word's edge, so "what's" is
// not a quote).
std::optional<Quote> find_quote(std::string_view text) {
  for (const auto& [open, close] :
       {std::pair<std::string_view, std::string_view>{"\"", "\""}, {"\u201c", "\u201d"}}) {
    const auto a = text.find(open);
    if (a == std::string_view::npos) continue;
    const auto b = text.find(close, a + open.size());
    if (b == std::string_view::npos) continue;
    return Quote{a, b + close.size(),
                 std::string(text.substr(a + open.size(), b - a - open.size()))};
  }
  for (std::size_t a = 0; a < text.size(); ++a) {
    if (text[a] != '\'' || (a > 0 && text[a - 1] != ' ')) continue;
    for (std::size_t b = a + 1; b < text.size(); ++b) {
      const bool edge = b + 1 == text.size() || text[b + 1] == ' ' || text[b + 1] == ',' ||
                        text[b + 1] == '.' || text[b + 1] == '?';
      if (text[b] == '\'' && edge)
        return Quote{a, b + 1, std::string(text.substr(a + 1, b - a - 1))};
    }
  }
  return std::nullopt;
}

struct Request {
  Tokens tokens;
  std::optional<Quote> quote;
  std::vector<Mention> mentions;
  std::vector<bool> device_words;
  const ParseContext* context = nullptr;
};

Request read_request(std::string_view text, const ParseContext& context) {
  Request r;
  r.context = &context;
  r.quote = find_quote(text);
  std::string unquoted(text);
  if (r.quote) {
    std::fill(unquoted.begin() + static_cast<std::ptrdiff_t>(r.quote->begin),
              unquoted.begin() + static_cast<std::ptrdiff_t>(r.quote->end), ' ');
  }
  r.tokens = tokenize(unquoted);
  r.mentions = find_mentions(r.tokens, context.devices);
  r.device_words.assign(r.tokens.size(), false);
  for (const auto& m : r.mentions) {
    for (std::size_t i = m.first; i < m.last; ++i) r.device_words[i] = true;
  }
  return r;
}

bool has(const DeviceInfo& d, std::string_view capability) {
  return capability.empty() || std::find(d.capabilities.begin(), d.capabilities.end(),
                                         capability) != d.capabilities.end();
}

const DeviceInfo* device_by_id(const ParseContext& c, std::string_view id) {
  for (const auto& d : c.devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

// Candidates narrowed to those able to do the intent, unless none is.
std::vector<std::string> able(const ParseContext& c, const std::vector<std::string>& ids,
                              std::string_view capability) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    if (const auto* d = device_by_id(c, id); d && has(*d, capability)) out.push_back(id);
  }
  return out.empty() ? ids : out;
}

void put_target(json& slots, std::vector<std::string> ids) {
  if (ids.size() == 1) {
    slots["device"] = ids.front();
  } else {
    std::sort(ids.begin(), ids.end());
    slots["ambiguous"] = ids;
  }
}

// Every device able to do the intent except `except`.
std::vector<std::string> all_able(const ParseContext& c, std::string_view capability,
                                  std::string_view except) {
  std::vector<std::string> ids;
  for (const auto& d : c.devices) {
    if (d.id != except && has(d, capability)) ids.push_back(d.id);
  }
  return ids;
}

bool preceded_by(const Tokens& t, std::size_t at, std::string_view word, std::size_t within) {
  for (std::size_t k = 1; k <= within && k <= at; ++k) {
    if (t[at - k].word == word) return true;
  }
  return false;
}

// The target for intents with one device; `default_to_caller` for media
// and battery, otherwise an unnamed device is asked for.
void resolve_single(const Request& r, std::string_view intent, bool default_to_caller,
                    json& slots) {
  const ParseContext& c = *r.context;
  const auto capability = capability_for(intent);
  if (!r.mentions.empty()) {
    put_target(slots, able(c, r.mentions.back().candidates, capability));
    return;
  }
  if (!c.caller_device.empty() && (default_to_caller || contains_word(r.tokens, "here"))) {
    slots["device"] = c.caller_device;
    return;
  }
  put_target(slots, all_able(c, capability, c.caller_device));
}

// "what I was doing on the laptop": the device where the activity is.
bool doing_on(const Tokens& t, std::size_t at) {
  std::size_t k = at;
  while (k > 0 && (t[k - 1].word == "the" || t[k - 1].word == "my")) --k;
  return k >= 2 && (t[k - 1].word == "on" || t[k - 1].word == "in") && t[k - 2].word == "doing";
}

// handoff.continue: a device after "from", with a possessive, or after
// "doing on" is the source; the last other one (or "here") the target.
void resolve_handoff(const Request& r, json& slots) {
  const ParseContext& c = *r.context;
  std::string source = c.caller_device;
  std::optional<std::vector<std::string>> target;
  for (const auto& m : r.mentions) {
    const bool is_source = preceded_by(r.tokens, m.first, "from", 2) ||
                           r.tokens[m.last - 1].possessive || doing_on(r.tokens, m.first);
    if (is_source && m.candidates.size() == 1) {
      source = m.candidates.front();
    } else {
      target = able(c, m.candidates, "handoff");
    }
  }
  if (!target && contains_word(r.tokens, "here") && !c.caller_device.empty()) {
    target = std::vector<std::string>{c.caller_device};
  }
  if (!target) target = all_able(c, "handoff", source);
  put_target(slots, *target);
  if (!source.empty()) slots["source"] = source;
}

void volume_slots(const Request& r, json& slots) {
  const Tokens& t = r.tokens;
  if (contains_word(t, "unmute")) {
    slots["direction"] = "up";
    return;
  }
  if (contains_word(t, "mute")) {
    slots["volume"] = 0;
    return;
  }
  if (contains_word(t, "max") || contains_word(t, "maximum") || contains_word(t, "full")) {
    slots["volume"] = 100;
    return;
  }
  std::optional<int> absolute;
  std::optional<int> step;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto n = number_at(t, i);
    if (!n || r.device_words[i]) continue;
    const std::string& before = i > 0 ? t[i - 1].word : std::string();
    if (before == "by" || before == "up" || before == "down") {
      step = n->value;
    } else {
      absolute = n->value;
    }
    i += n->length - 1;
  }
  if (absolute) {
    slots["volume"] = std::clamp(*absolute, 0, 100);
    return;
  }
  const bool down = contains_word(t, "down") || contains_word(t, "quieter") ||
                    contains_word(t, "lower") || contains_word(t, "decrease") ||
                    contains_word(t, "reduce") || contains_word(t, "loud") ||
                    contains_word(t, "softer");
  slots["direction"] = down ? "down" : "up";
  if (step) slots["step"] = *step;
}

// Tokens [first, last) with the given words removed from both ends.
std::pair<std::size_t, std::size_t> trim(const Tokens& t, std::size_t first, std::size_t last,
                                         std::initializer_list<std::string_view> leading,
                                         std::initializer_list<std::string_view> trailing) {
  const auto in = [](std::initializer_list<std::string_view> words, const std::string& w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };
  bool changed = true;
  while (changed && first < last) {
    changed = false;
    if (in(leading, t[first].word)) ++first, changed = true;
    if (first < last && in(trailing, t[last - 1].word)) --last, changed = true;
  }
  return {first, last};
}

// Remove a phrase wherever it starts within the first few tokens.
void drop_phrase(const Tokens& t, std::vector<bool>& drop, std::string_view phrase,
                 std::size_t within) {
  for (std::size_t i = 0; i < t.size() && i <= within; ++i) {
    if (!phrase_at(t, i, phrase)) continue;
    const auto n = static_cast<std::size_t>(std::count(phrase.begin(), phrase.end(), ' ') + 1);
    for (std::size_t k = i; k < i + n; ++k) drop[k] = true;
    return;
  }
}

// The words left once `drop` is removed, trimmed of fillers at both ends
// ("remind me to go at 5 pm to the bank" → "go to the bank").
std::string kept_text(const Tokens& t, const std::vector<bool>& drop,
                      std::initializer_list<std::string_view> leading) {
  Tokens kept;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!drop[i]) kept.push_back(t[i]);
  }
  const auto [a, b] = trim(kept, 0, kept.size(), leading, {"please", "thanks"});
  return join_original(kept, a, b);
}

void reminder_slots(const Request& r, json& slots) {
  const Tokens& t = r.tokens;
  std::vector<bool> drop(t.size(), false);
  if (const auto when = find_time(t, r.context->now, *r.context->zone)) {
    slots["time"] = when->iso;
    drop = when->used;
  }
  for (const std::string_view p :
       {"don't let me forget", "do not let me forget", "set a reminder", "add a reminder",
        "a reminder", "reminder", "remind me", "can you", "could you", "please", "hey"}) {
    drop_phrase(t, drop, p, 6);
  }
  slots["text"] = kept_text(t, drop, {"to", "about", "that", "of", "please"});
}

std::optional<std::size_t> language_at(const Tokens& t, std::size_t i) {
  if (language_code(t[i].word)) return i;
  return std::nullopt;
}

void translate_slots(const Request& r, json& slots) {
  const Tokens& t = r.tokens;
  std::vector<bool> drop(t.size(), false);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!language_at(t, i)) continue;
    const std::string code = *language_code(t[i].word);
    drop[i] = true;
    const std::string& before = i > 0 ? t[i - 1].word : std::string();
    if (before == "from") {
      slots["from"] = code;
    } else {
      slots["language"] = code;
    }
    if (before == "from" || before == "to" || before == "into" || before == "in")
      drop[i - 1] = true;
    if (before == "the") drop[i - 1] = true;
    if (i + 1 < t.size() && (t[i + 1].word == "for" || t[i + 1].word == "translation")) {
      drop[i + 1] = true;
      if (i + 2 < t.size() && t[i + 2].word == "of") drop[i + 2] = true;
    }
  }
  for (const std::string_view p :
       {"how do you say", "how do i say", "how would you say", "how would i say", "what is",
        "what's", "what does", "can you", "could you", "please", "translate", "say", "put"}) {
    drop_phrase(t, drop, p, 4);
  }
  const auto mean = find_word(t, "mean");
  if (mean != std::string::npos) drop[mean] = true;
  if (r.quote) {
    slots["text"] = r.quote->inner;
  } else {
    slots["text"] = kept_text(t, drop, {"the", "please"});
  }
}

// "the photo", "report.pdf": what file.send names, if anything particular.
void file_slots(const Request& r, json& slots) {
  const Tokens& t = r.tokens;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (looks_like_file_name(t[i].word)) {
      slots["file"] = t[i].original;
      return;
    }
  }
  for (std::size_t i = 1; i < t.size(); ++i) {
    const std::string& w = t[i].word;
    const bool thing = w == "photo" || w == "picture" || w == "document" || w == "pdf" ||
                       w == "photos" || w == "pictures" || w == "doc";
    const std::string& det = t[i - 1].word;
    if (thing && (det == "the" || det == "this" || det == "that" || det == "my")) {
      slots["file"] = join_original(t, i - 1, i + 1);
      return;
    }
  }
}

}  // namespace

std::string_view capability_for(std::string_view intent) {
  if (intent.starts_with("media.")) return "media";
  if (intent == "device.ring") return "find";
  if (intent == "clipboard.send") return "clipboard";
  if (intent == "file.send") return "files";
  if (intent == "handoff.continue") return "handoff";
  return "";
}

ParseResult parse(std::string_view text, const ParseContext& context) {
  const Request r = read_request(text, context);
  ParseResult result;
  result.intent = classify(r.tokens, r.device_words);
  const std::string& intent = result.intent;
  json& slots = result.slots;
  if (intent.starts_with("media.") || intent == "device.battery") {
    resolve_single(r, intent, true, slots);
    if (intent == "media.volume") volume_slots(r, slots);
  } else if (intent == "device.ring" || intent == "clipboard.send" || intent == "file.send") {
    resolve_single(r, intent, false, slots);
    if (intent == "file.send") file_slots(r, slots);
  } else if (intent == "handoff.continue") {
    resolve_handoff(r, slots);
  } else if (intent == "reminder.create") {
    reminder_slots(r, slots);
  } else if (intent == "translate") {
    translate_slots(r, slots);
  }
  return result;
}

}  // namespace allscene::services::assistant
