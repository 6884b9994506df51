#include "services/assistant/devices.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace allscene::services::assistant {

namespace {

struct ClassWords {
  std::string_view device_class;
  std::array<std::string_view, 5> words;
};

constexpr std::array<ClassWords, 11> kClassWords = {{
    {"phone", {"phone", "mobile", "smartphone", "cellphone", "cell"}},
    {"laptop", {"laptop", "computer", "notebook", "pc", "macbook"}},
    {"desktop", {"computer", "desktop", "pc", "", ""}},
    {"tablet", {"tablet", "tab", "ipad", "", ""}},
    {"display", {"display", "screen", "", "", ""}},
    {"tv", {"tv", "television", "screen", "", ""}},
    {"wearable", {"watch", "smartwatch", "band", "", ""}},
    {"audio", {"speaker", "speakers", "", "", ""}},
    {"car", {"car", "vehicle", "", "", ""}},
    {"thermostat", {"thermostat", "heating", "", "", ""}},
    {"lock", {"lock", "", "", "", ""}},
}};

// Words in names that say nothing about which device is meant.
bool is_filler(std::string_view w) {
  return w == "the" || w == "my" || w == "of" || w == "a" || w == "and" || w == "in" || w == "on" ||
         w.empty();
}

std::set<std::string> device_words(const DeviceInfo& d) {
  std::set<std::string> words;
  for (const auto& t : tokenize(d.name)) {
    if (!is_filler(t.word)) words.insert(t.word);
  }
  return words;
}

std::vector<std::string> intersect(const std::vector<std::string>& a,
                                   const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Words of names ("Work laptop", "Home hub") too common to name a device
// on their own: "the tablet's work" is not the laptop.
bool is_weak(std::string_view w) {
  return w == "work" || w == "home" || w == "new" || w == "old" || w == "big" || w == "small" ||
         w == "main" || w == "little" || w == "front" || w == "back" || w == "office";
}

bool only_weak_words(const Tokens& tokens, const Mention& m) {
  for (std::size_t i = m.first; i < m.last; ++i) {
    if (!is_weak(tokens[i].word)) return false;
  }
  return true;
}

// Mentions a few words apart that fit common devices are one mention.
constexpr std::size_t kJoinGap = 3;

}  // namespace

bool is_class_word(std::string_view device_class, std::string_view word) {
  for (const auto& c : kClassWords) {
    if (c.device_class != device_class) continue;
    return std::find(c.words.begin(), c.words.end(), word) != c.words.end() && !word.empty();
  }
  return word == device_class;
}

std::vector<Mention> find_mentions(const Tokens& tokens, const std::vector<DeviceInfo>& devices) {
  std::vector<std::set<std::string>> words;
  words.reserve(devices.size());
  for (const auto& d : devices) words.push_back(device_words(d));
  std::vector<Mention> mentions;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::vector<std::string> fits;
    for (std::size_t k = 0; k < devices.size(); ++k) {
      if (words[k].contains(tokens[i].word) ||
          is_class_word(devices[k].device_class, tokens[i].word)) {
        fits.push_back(devices[k].id);
      }
    }
    if (fits.empty()) continue;
    std::sort(fits.begin(), fits.end());
    if (!mentions.empty() && i - mentions.back().last <= kJoinGap) {
      auto common = intersect(mentions.back().candidates, fits);
      if (!common.empty()) {
        mentions.back().candidates = std::move(common);
        mentions.back().last = i + 1;
        continue;
      }
    }
    mentions.push_back(Mention{i, i + 1, std::move(fits)});
  }
  std::erase_if(mentions, [&](const Mention& m) { return only_weak_words(tokens, m); });
  return mentions;
}

std::optional<std::string> choose(std::string_view reply,
                                  const std::vector<DeviceInfo>& candidates) {
  static constexpr std::array<std::string_view, 5> kOrdinals = {"first", "second", "third",
                                                                "fourth", "fifth"};
  const Tokens tokens = tokenize(reply);
  std::set<std::string> fits;
  for (const auto& m : find_mentions(tokens, candidates)) {
    fits.insert(m.candidates.begin(), m.candidates.end());
  }
  if (fits.empty()) {
    for (const auto& t : tokens) {
      const auto it = std::find(kOrdinals.begin(), kOrdinals.end(), t.word);
      const auto index = static_cast<std::size_t>(it - kOrdinals.begin());
      if (it != kOrdinals.end() && index < candidates.size()) fits.insert(candidates[index].id);
      if (t.word == "last" && !candidates.empty()) fits.insert(candidates.back().id);
    }
  }
  if (fits.size() != 1) return std::nullopt;
  return *fits.begin();
}

}  // namespace allscene::services::assistant
