// The pronouncing dictionary (CMUdict as shipped with pocketsphinx-en-us):
// word -> phone strings, loaded once and then read-only, so one instance is
// shared by every thread. It also gives pronunciations to the words the
// dictionary lacks, since pocketsphinx 5prealpha has no grapheme-to-phoneme
// model: a word is split into dictionary words when it can be
// ("chromebook" = "chrome" + "book"), otherwise it is spelled letter by
// letter ("xq" = "X Q"), which matches only if the user spells it too.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace allscene::services::speech {

class Dictionary {
 public:
  // Throws std::runtime_error if the file cannot be read (start-up only).
  explicit Dictionary(const std::filesystem::path& file);

  // All pronunciations of a lower-case word ("AH", "EY" for "a"); empty if absent.
  const std::vector<std::string>& pronunciations(std::string_view word) const;
  bool contains(std::string_view word) const { return !pronunciations(word).empty(); }

  enum class Source { dictionary, compound, spelled };
  struct Guess {
    std::string phones;
    Source source = Source::dictionary;
  };
  // A pronunciation for a lower-case token of letters, apostrophes and
  // digits: from the dictionary, or built as described above; nullopt only
  // if even a letter is missing from the dictionary.
  std::optional<Guess> guess(std::string_view word) const;

  std::size_t size() const { return words_.size(); }

 private:
  std::optional<std::string> compound(std::string_view word) const;
  std::optional<std::string> spelled(std::string_view word) const;

  std::unordered_map<std::string, std::vector<std::string>> words_;
};

}  // namespace allscene::services::speech
