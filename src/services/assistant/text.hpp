// Words of a request: tokens that keep the user's own spelling (for the
// free-text slots) beside a lower-case form corrected for small typos (for
// matching keywords). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace allscene::services::assistant {

struct Token {
  std::string original;  // as typed, without surrounding punctuation
  std::string word;      // lower case, "'s" of a possessive removed, typos fixed
  bool possessive = false;
  bool comma_after = false;  // a ',' ':' or ';' followed it
  std::size_t begin = 0;     // byte offsets of `original` in the request
  std::size_t end = 0;
};

using Tokens = std::vector<Token>;

// Splits `text` on white space; a word not in the assistant's vocabulary
// that is one edit from exactly one vocabulary word (a transposition only
// for four-letter words) is read as that word.
Tokens tokenize(std::string_view text);

// Optimal string alignment distance (insertions, deletions, substitutions,
// adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The user's words from token `first` up to (not including) `last`, joined
// by single spaces.
std::string join_original(const Tokens& tokens, std::size_t first, std::size_t last);

bool contains_word(const Tokens& tokens, std::string_view word);
// Index of the first token equal to `word` at or after `from`, or npos.
std::size_t find_word(const Tokens& tokens, std::string_view word, std::size_t from = 0);
// Does the phrase (words separated by single spaces) occur at `at`?
bool phrase_at(const Tokens& tokens, std::size_t at, std::string_view phrase);
// Index of the first occurrence of `phrase`, or npos.
std::size_t find_phrase(const Tokens& tokens, std::string_view phrase);

std::string to_lower(std::string_view s);

}  // namespace allscene::services::assistant
