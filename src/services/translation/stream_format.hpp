// Plain text <-> Apertium stream format, for one request in a null-flush
// pipeline.
//
// Why not apertium-destxt/apertium-retxt: in Apertium 3.8 they read to end
// of file and drop NUL bytes, so they cannot sit in a long-lived pipeline;
// the text format is small enough to apply here:
//  - the stream's reserved characters [ ] \ ^ $ / < > { } @ are escaped
//    with a backslash, as apertium-destxt does;
//  - whitespace other than a single space (newlines, tabs, runs) becomes a
//    superblank "[…]", which every stage passes through in place;
//  - literal * # ~ also travel as superblanks, because in the output an
//    unescaped * # @ marks an unknown word and ~ triggers post-generation;
//  - every request ends with an empty superblank "[]" so the last word is
//    flushed before the NUL.
// NUL is the request separator and is never produced by to_stream: callers
// reject text that contains it.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace allscene::services::translation {

std::string to_stream(std::string_view text);

// Whether one answer of the pipeline is whole: it ends with the request's
// closing superblank. A stage that dies makes the stages after it flush
// and write a NUL at end of file; such an answer is cut short.
bool is_complete_answer(std::string_view stream);

struct PlainText {
  std::string text;
  // Words Apertium could not translate (marked * unknown to the analyser,
  // @ missing from the bilingual dictionary, # not generated), in order of
  // first appearance, each once.
  std::vector<std::string> unknown;
};

// Turns one request's output back into text. `mark_unknown` keeps Apertium's
// marks in the text (so "*Xyzzy" stays marked); the words are reported either
// way. `source` is the text that was translated: leading and trailing
// whitespace the source did not have (Apertium leaves a blank where it drops
// a word, "I have" -> " Tengo") is trimmed.
PlainText from_stream(std::string_view stream, bool mark_unknown, std::string_view source);

}  // namespace allscene::services::translation
