#include "services/translation/stream_format.hpp"

#include <algorithm>

namespace allscene::services::translation {
namespace {

constexpr std::string_view kEscaped = "[]\\^$/<>{}@";
constexpr std::string_view kAsFormat = "*#~";
constexpr std::string_view kWhitespace = " \t\n\r\v\f";
constexpr std::string_view kUnknownMarks = "*#@";
constexpr std::string_view kRequestEnd = "[]";

bool is_whitespace(char c) { return kWhitespace.find(c) != std::string_view::npos; }

// Ends an unknown word: anything but ASCII letters and digits and non-ASCII
// characters. That is where Apertium's lt-proc ends one ("Xyzzy-plork"
// comes back "*Xyzzy-*plork", "O'Zorkk" as "*O'*Zorkk"), and an escaped
// character ("\<*b\>") is always punctuation from the source.
bool ends_word(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return false;
  return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}

void append_whitespace_run(std::string& out, std::string_view run) {
  if (run == " ") {
    out += ' ';
  } else {
    out += '[';
    out += run;
    out += ']';
  }
}

// Copies a superblank's content (stream[i] is just past '['); returns the
// index just past its ']'.
size_t copy_superblank(std::string_view stream, size_t i, std::string& out) {
  while (i < stream.size() && stream[i] != ']') {
    if (stream[i] == '\\' && i + 1 < stream.size()) ++i;
    out += stream[i++];
  }
  return i + 1;
}

// Reads an unknown word (stream[i] is its first character); returns the
// index just past it.
size_t read_word(std::string_view stream, size_t i, std::string& word) {
  while (i < stream.size() && !ends_word(stream[i])) word += stream[i++];
  return i;
}

void trim_added_whitespace(std::string& text, std::string_view source) {
  bool source_starts_blank = !source.empty() && is_whitespace(source.front());
  bool source_ends_blank = !source.empty() && is_whitespace(source.back());
  if (!source_ends_blank) {
    while (!text.empty() && is_whitespace(text.back())) text.pop_back();
  }
  if (!source_starts_blank) {
    size_t first = 0;
    while (first < text.size() && is_whitespace(text[first])) ++first;
    text.erase(0, first);
  }
}

}  // namespace

std::string to_stream(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 2);
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (is_whitespace(c)) {
      size_t end = i;
      while (end < text.size() && is_whitespace(text[end])) ++end;
      append_whitespace_run(out, text.substr(i, end - i));
      i = end;
      continue;
    }
    if (kEscaped.find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else if (kAsFormat.find(c) != std::string_view::npos) {
      out += '[';
      out += c;
      out += ']';
    } else {
      out += c;
    }
    ++i;
  }
  out += kRequestEnd;
  return out;
}

bool is_complete_answer(std::string_view stream) { return stream.ends_with(kRequestEnd); }

PlainText from_stream(std::string_view stream, bool mark_unknown, std::string_view source) {
  PlainText result;
  std::string& text = result.text;
  text.reserve(stream.size());
  for (size_t i = 0; i < stream.size();) {
    char c = stream[i];
    if (c == '\\' && i + 1 < stream.size()) {
      text += stream[i + 1];
      i += 2;
    } else if (c == '[') {
      i = copy_superblank(stream, i + 1, text);
    } else if (kUnknownMarks.find(c) != std::string_view::npos && i + 1 < stream.size() &&
               !ends_word(stream[i + 1])) {
      std::string word;
      i = read_word(stream, i + 1, word);
      if (mark_unknown) text += c;
      text += word;
      if (std::find(result.unknown.begin(), result.unknown.end(), word) == result.unknown.end()) {
        result.unknown.push_back(std::move(word));
      }
    } else {
      text += c;
      ++i;
    }
  }
  trim_added_whitespace(text, source);
  return result;
}

}  // namespace allscene::services::translation
