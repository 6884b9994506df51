#include "services/speech/dictionary.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace allscene::services::speech {
namespace {

// "word(2)" -> "word": alternates join their base word.
std::string base_word(std::string word) {
  if (auto open = word.find('('); open != std::string::npos && open > 0 && word.back() == ')') {
    word.resize(open);
  }
  return word;
}

const std::vector<std::string> kNone;
constexpr std::size_t kMinCompoundPart = 3;

}  // namespace

Dictionary::Dictionary(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read pronouncing dictionary " + file.string());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string word;
    if (!(fields >> word)) continue;
    std::string phones;
    std::string phone;
    while (fields >> phone) {
      if (phone.starts_with('#')) break;  // trailing comments in some CMUdict builds
      if (!phones.empty()) phones += ' ';
      phones += phone;
    }
    if (!phones.empty()) words_[base_word(std::move(word))].push_back(std::move(phones));
  }
  if (words_.empty()) throw std::runtime_error("empty pronouncing dictionary " + file.string());
}

const std::vector<std::string>& Dictionary::pronunciations(std::string_view word) const {
  auto it = words_.find(std::string(word));
  return it == words_.end() ? kNone : it->second;
}

std::optional<Dictionary::Guess> Dictionary::guess(std::string_view word) const {
  if (const auto& known = pronunciations(word); !known.empty()) {
    return Guess{known.front(), Source::dictionary};
  }
  if (auto phones = compound(word)) return Guess{*phones, Source::compound};
  if (auto phones = spelled(word)) return Guess{*phones, Source::spelled};
  return std::nullopt;
}

// Fewest dictionary words of at least kMinCompoundPart letters that make up
// `word` (dynamic programming over split points).
std::optional<std::string> Dictionary::compound(std::string_view word) const {
  const std::size_t n = word.size();
  std::vector<std::optional<std::string>> best(n + 1);  // phones of word[0, i)
  std::vector<std::size_t> parts(n + 1, 0);
  best[0] = std::string();
  for (std::size_t end = kMinCompoundPart; end <= n; ++end) {
    for (std::size_t start = 0; start + kMinCompoundPart <= end; ++start) {
      if (!best[start]) continue;
      const auto& known = pronunciations(word.substr(start, end - start));
      if (known.empty()) continue;
      if (best[end] && parts[end] <= parts[start] + 1) continue;
      best[end] = best[start]->empty() ? known.front() : *best[start] + ' ' + known.front();
      parts[end] = parts[start] + 1;
    }
  }
  if (!best[n] || parts[n] < 2) return std::nullopt;
  return best[n];
}

std::optional<std::string> Dictionary::spelled(std::string_view word) const {
  std::string phones;
  for (char c : word) {
    if (c == '\'') continue;
    // "a." is the letter's name (EY) where "a" is the article (AH).
    const std::string letter(1, c);
    const auto* known = &pronunciations(letter + '.');
    if (known->empty()) known = &pronunciations(letter);
    if (known->empty()) return std::nullopt;
    if (!phones.empty()) phones += ' ';
    phones += known->front();
  }
  if (phones.empty()) return std::nullopt;
  return phones;
}

}  // namespace allscene::services::speech
