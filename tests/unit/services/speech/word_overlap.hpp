// Word-level comparison of recognised text with what was said.
#pragma once

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

namespace allscene::services::speech {

// Lower-case words without punctuation.
inline std::vector<std::string> normalised_words(const std::string& text) {
  std::string cleaned;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    cleaned += std::isalnum(u) || c == '\'' ? static_cast<char>(std::tolower(u)) : ' ';
  }
  std::istringstream in(cleaned);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Levenshtein distance over words.
inline std::size_t word_errors(const std::vector<std::string>& said,
                               const std::vector<std::string>& heard) {
  std::vector<std::size_t> row(heard.size() + 1);
  for (std::size_t j = 0; j <= heard.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= said.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= heard.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (said[i - 1] == heard[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[heard.size()];
}

// 1 - word error rate, floored at 0.
inline double word_accuracy(const std::string& said, const std::string& heard) {
  const auto s = normalised_words(said);
  if (s.empty()) return 0.0;
  const auto errors = word_errors(s, normalised_words(heard));
  return errors >= s.size() ? 0.0 : 1.0 - static_cast<double>(errors) / static_cast<double>(s.size());
}

// Share of the said words found (in order) in what was heard.
inline double word_overlap(const std::string& said, const std::string& heard) {
  return word_accuracy(said, heard);
}

}  // namespace allscene::services::speech
