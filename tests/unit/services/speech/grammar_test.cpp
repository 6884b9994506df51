#include "services/speech/grammar.hpp"

#include <gtest/gtest.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <sphinxbase/logmath.h>

#include <memory>
#include <set>
#include <sstream>

namespace allscene::services::speech {
namespace {

const Dictionary& dictionary() {
  static const Dictionary d("/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");
  return d;
}

// Whether the JSGF grammar's public rule accepts the word sequence: the
// grammar is compiled by sphinxbase into the finite-state grammar the
// decoder searches, and the words are run through it (a set of states,
// closed over null transitions after each step).
class Acceptor {
 public:
  explicit Acceptor(const std::string& jsgf_text) {
    err_set_logfp(nullptr);  // sphinxbase logs every step to stderr
    std::unique_ptr<jsgf_t, decltype(&jsgf_grammar_free)> jsgf(
        jsgf_parse_string(jsgf_text.c_str(), nullptr), &jsgf_grammar_free);
    if (!jsgf) throw std::runtime_error("grammar does not parse");
    jsgf_rule_t* rule = jsgf_get_public_rule(jsgf.get());
    if (!rule) throw std::runtime_error("grammar has no public rule");
    fsg_ = jsgf_build_fsg(jsgf.get(), rule, lmath_, 1.0);
    if (!fsg_) throw std::runtime_error("grammar does not compile");
  }
  ~Acceptor() {
    fsg_model_free(fsg_);
    logmath_free(lmath_);
  }
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  bool accepts(const std::string& words) const {
    std::set<int> states = closure({fsg_model_start_state(fsg_)});
    std::istringstream in(words);
    for (std::string word; in >> word;) {
      const int wid = fsg_model_word_id(fsg_, word.c_str());
      if (wid < 0) return false;
      std::set<int> next;
      for (int s : states) {
        for_each_arc(s, [&](fsg_link_t* l) {
          if (fsg_link_wid(l) == wid) next.insert(fsg_link_to_state(l));
        });
      }
      states = closure(next);
    }
    return states.contains(fsg_model_final_state(fsg_));
  }

 private:
  template <typename F>
  void for_each_arc(int state, F f) const {
    for (fsg_arciter_t* it = fsg_model_arcs(fsg_, state); it; it = fsg_arciter_next(it)) {
      f(fsg_arciter_get(it));
    }
  }

  std::set<int> closure(std::set<int> states) const {
    std::vector<int> todo(states.begin(), states.end());
    while (!todo.empty()) {
      const int s = todo.back();
      todo.pop_back();
      for_each_arc(s, [&](fsg_link_t* l) {
        if (fsg_link_wid(l) < 0 && states.insert(fsg_link_to_state(l)).second) {
          todo.push_back(fsg_link_to_state(l));
        }
      });
    }
    return states;
  }

  logmath_t* lmath_ = logmath_init(1.0001, 0, 0);
  fsg_model_t* fsg_ = nullptr;
};

TEST(Dictionary, KnownCompoundAndSpelledWords) {
  EXPECT_EQ(dictionary().guess("watch")->phones, "W AA CH");
  auto compound = dictionary().guess("earbuds");  // ear + buds
  ASSERT_TRUE(compound);
  EXPECT_EQ(compound->source, Dictionary::Source::compound);
  auto spelled = dictionary().guess("xq");
  ASSERT_TRUE(spelled);
  EXPECT_EQ(spelled->source, Dictionary::Source::spelled);
  EXPECT_EQ(spelled->phones, "EH K S K Y UW");
}

TEST(Grammar, NumberWords) {
  EXPECT_EQ(number_words("0"), "zero");
  EXPECT_EQ(number_words("7"), "seven");
  EXPECT_EQ(number_words("35"), "thirty five");
  EXPECT_EQ(number_words("100"), "one hundred");
  EXPECT_EQ(number_words("2024"), "two zero two four");
}

TEST(Grammar, DeviceNamesBecomeSpokenPhrases) {
  const auto g = build_command_grammar(
      {{"Pixel 7", "phone"}, {"Galaxy S23", "phone"}, {"Zyxw Hub!", "hub"}}, dictionary());
  EXPECT_NE(g.jsgf.find("pixel seven"), std::string::npos);
  EXPECT_NE(g.jsgf.find("galaxy s twenty three"), std::string::npos);
  EXPECT_NE(g.jsgf.find("public <request>"), std::string::npos);
  EXPECT_NE(std::find(g.guessed.begin(), g.guessed.end(), "zyxw (spelled)"), g.guessed.end());
  // Every word of the grammar has a pronunciation for the decoder.
  for (const auto& [word, phones] : g.words) EXPECT_FALSE(phones.empty()) << word;
}

const std::vector<DeviceName>& owner_devices() {
  static const std::vector<DeviceName> devices = {
      {"Pixel 7", "phone"}, {"Living room speaker", "audio"}, {"Hall lamp", "light"}};
  return devices;
}

TEST(Grammar, StructuredRulesAcceptEachClosedIntentsPhrasings) {
  const auto g = build_command_grammar(owner_devices(), dictionary());
  const Acceptor structured(g.jsgf);
  for (const char* said :
       {"play music on the living room speaker", "pause", "could you pause my phone please",
        "skip to the next song on pixel seven", "play the previous track",
        "set the volume of the living room speaker to thirty five", "volume up",
        "turn down the living room", "turn the volume up on my phone by ten",
        "mute the music", "ring my pixel seven", "where is my phone",
        "what's the battery level of the living room speaker", "how much battery is left",
        "send my clipboard to pixel seven", "share the file with my phone",
        "move what i'm doing on my phone to the living room speaker", "list my devices",
        "what's my next flight", "living room speaker pause",
        // A device class that is no built-in noun ("light"), and a name.
        "ring the light", "turn the hall lamp up"}) {
    EXPECT_TRUE(structured.accepts(said)) << said;
  }
}

TEST(Grammar, StructuredRulesPutFunctionWordsOnlyWhereTheParserExpectsThem) {
  const auto g = build_command_grammar(owner_devices(), dictionary());
  const Acceptor structured(g.jsgf);
  for (const char* said : {"ring does the phone", "to to to", "the", "play on that phone",
                           "volume to ten fifty five", "phone ring ring", "raise the phone"}) {
    EXPECT_FALSE(structured.accepts(said)) << said;
  }
}

TEST(Grammar, FallbackAcceptsAnyOrderOfTheRequestWords) {
  const auto g = build_command_grammar(owner_devices(), dictionary());
  const Acceptor fallback(g.fallback_jsgf);
  EXPECT_TRUE(fallback.accepts("phone ring ring"));
  EXPECT_TRUE(fallback.accepts("to to to"));
  EXPECT_TRUE(fallback.accepts("living room speaker volume thirty five"));
  EXPECT_FALSE(fallback.accepts("xylophone"));  // words outside the vocabulary never
}

TEST(Grammar, EveryRuleWordHasAPronunciation) {
  const auto g = build_command_grammar(owner_devices(), dictionary());
  std::set<std::string> known;
  for (const auto& [word, phones] : g.words) known.insert(word);
  for (const char* word : {"unpause", "clipboard", "gadgets", "upcoming", "lamp", "hall"}) {
    EXPECT_TRUE(known.contains(word)) << word;
  }
  // A rule word without one would make pocketsphinx refuse the grammar.
  EXPECT_TRUE(g.dropped.empty()) << g.dropped.front();
}

TEST(Grammar, RestoresNamesAndNumbers) {
  const auto g = build_command_grammar({{"Pixel 7", "phone"}, {"Living room speaker", "audio"}},
                                       dictionary());
  EXPECT_EQ(restore_names_and_numbers("set the living room speaker to thirty five", g),
            "set the Living room speaker to 35");
  EXPECT_EQ(restore_names_and_numbers("ring my pixel seven", g), "ring my Pixel 7");
  EXPECT_EQ(restore_names_and_numbers("volume one hundred", g), "volume 100");
  EXPECT_EQ(restore_names_and_numbers("volume zero", g), "volume 0");
  EXPECT_EQ(restore_names_and_numbers("volume to a hundred", g), "volume to 100");
}

}  // namespace
}  // namespace allscene::services::speech
