// The engine against the real Apertium pairs installed on this machine.
// Expected translations are what Apertium 3.8 with apertium-eng-spa 0.8.1
// and apertium-fr-es 0.9.4 give (checked with `apertium eng-spa`).
#include "services/translation/translation_engine.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>

namespace allscene::services::translation {
namespace {

// Each test on its own engine (it counts pipeline starts or kills stages).
class Engine : public ::testing::Test {
 protected:
  explicit Engine(EngineOptions options = {})
      : owned_(std::make_unique<TranslationEngine>(std::move(options))), engine_(*owned_) {}
  explicit Engine(TranslationEngine& shared) : engine_(shared) {}

  const PairInfo& pair(const char* name) {
    const auto* found = engine_.catalog().by_name(name);
    if (found == nullptr) throw std::runtime_error(std::string("pair not installed: ") + name);
    return *found;
  }
  TranslateResult run(const char* pair_name, std::vector<std::string> texts,
                      bool mark_unknown = false) {
    return engine_.translate(pair(pair_name), texts, mark_unknown);
  }
  std::string one(const char* pair_name, const std::string& text) {
    auto result = run(pair_name, {text});
    EXPECT_TRUE(result.ok()) << result.message;
    return result.ok() ? result.translations.at(0).text : "";
  }

  std::unique_ptr<TranslationEngine> owned_;
  TranslationEngine& engine_;
};

// Tests that only translate share one engine and its warm pipelines, which
// keeps the suite fast (each engine start and cold pipeline costs ~0.5 s
// under ASan).
class SharedEngine : public Engine {
 protected:
  SharedEngine() : Engine(*shared_) {}
  static void SetUpTestSuite() { shared_ = std::make_unique<TranslationEngine>(); }
  static void TearDownTestSuite() { shared_.reset(); }
  static std::unique_ptr<TranslationEngine> shared_;
};
std::unique_ptr<TranslationEngine> SharedEngine::shared_;

TEST_F(SharedEngine, TranslatesEnglishToSpanish) {
  EXPECT_EQ(one("eng-spa", "I have a black dog."), "Tengo un perro negro.");
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
}

TEST_F(SharedEngine, TranslatesFrenchToSpanish) {
  EXPECT_EQ(one("fr-es", "Le garçon mange une pomme."), "El chico come una manzana.");
}

TEST_F(SharedEngine, KeepsLinesAndParagraphs) {
  EXPECT_EQ(one("eng-spa", "The house is big.\n\nThe cat is black.\n"),
            "La casa es grande.\n\nEl gato es negro.\n");
}

TEST_F(Engine, BatchTranslatesEachTextInOnePass) {
  const auto starts = engine_.pipeline_starts();
  auto result = run("eng-spa", {"The house is big.", "The cat is black.", "I have a black dog."});
  ASSERT_TRUE(result.ok()) << result.message;
  ASSERT_EQ(result.translations.size(), 3u);
  EXPECT_EQ(result.translations[0].text, "La casa es grande.");
  EXPECT_EQ(result.translations[1].text, "El gato es negro.");
  EXPECT_EQ(result.translations[2].text, "Tengo un perro negro.");
  EXPECT_EQ(engine_.pipeline_starts(), starts + 1);
}

TEST_F(SharedEngine, ReportsUnknownWordsAndStripsTheMarksByDefault) {
  auto result = run("eng-spa", {"Xyzzy plorks the cat."});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.translations[0].text, "Xyzzy plorks El gato.");
  EXPECT_EQ(result.translations[0].unknown, (std::vector<std::string>{"Xyzzy", "plorks"}));

  auto marked = run("eng-spa", {"Xyzzy plorks the cat."}, /*mark_unknown=*/true);
  ASSERT_TRUE(marked.ok()) << marked.message;
  EXPECT_EQ(marked.translations[0].text, "*Xyzzy *plorks El gato.");
}

TEST_F(SharedEngine, UnknownWordsNextToPunctuationAreReportedBare) {
  auto result = run("eng-spa", {"Xyzzy-plork read <b>, {x} and cafxyz/barqq."});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.translations[0].unknown,
            (std::vector<std::string>{"Xyzzy", "plork", "b", "x", "cafxyz", "barqq"}));
  EXPECT_EQ(result.translations[0].text.find('*'), std::string::npos)
      << result.translations[0].text;
}

TEST_F(SharedEngine, ReportsWordsApertiumCouldNotGenerate) {
  auto result = run("eng-spa", {"Where is the station?"}, true);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.translations[0].text, "Dónde es la #canal?");
  EXPECT_EQ(result.translations[0].unknown, std::vector<std::string>{"canal"});
}

TEST_F(Engine, TheSecondRequestOfAPairStartsNoProcess) {
  EXPECT_EQ(engine_.pipeline_starts(), 0u);
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  EXPECT_EQ(engine_.pipeline_starts(), 1u);
  const auto pids = engine_.pipeline_pids("eng-spa");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(one("eng-spa", "The cat is black."), "El gato es negro.");
  EXPECT_EQ(engine_.pipeline_starts(), 1u);
  EXPECT_EQ(engine_.pipeline_pids("eng-spa"), pids);
  EXPECT_EQ(one("fr-es", "Le chat est noir."), "El gato es negro.");
  EXPECT_EQ(engine_.pipeline_starts(), 2u);
}

size_t open_descriptors() {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                           std::filesystem::directory_iterator{}));
}

TEST_F(Engine, NoDescriptorOfTheHubLeaksIntoTheStages) {
  // A socket or pipe of ours beyond fds 0-2 would be a leak; a stage may
  // hold its own data files open. The hub holds a descriptor opened without
  // O_CLOEXEC (as a library might): it must not reach the stages either.
  int inheritable[2];
  ASSERT_EQ(::pipe(inheritable), 0);
  one("eng-spa", "The house is big.");
  ::close(inheritable[0]);
  ::close(inheritable[1]);
  const auto pids = engine_.pipeline_pids("eng-spa");
  ASSERT_FALSE(pids.empty());
  for (pid_t pid : pids) {
    const auto dir = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (std::stoi(entry.path().filename().string()) <= 2) continue;
      const auto target = std::filesystem::read_symlink(entry.path()).string();
      EXPECT_EQ(target.rfind("/usr/share/apertium/", 0), 0u)
          << "pid " << pid << " fd " << entry.path().filename() << " -> " << target;
    }
  }
}

TEST_F(Engine, AKilledStageIsReplacedForTheNextRequest) {
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  const auto pids = engine_.pipeline_pids("eng-spa");
  ASSERT_GT(pids.size(), 3u);
  ASSERT_EQ(::kill(pids[pids.size() / 2], SIGKILL), 0);
  EXPECT_EQ(one("eng-spa", "The cat is black."), "El gato es negro.");
  EXPECT_EQ(engine_.pipeline_starts(), 2u);
  EXPECT_NE(engine_.pipeline_pids("eng-spa"), pids);
}

TEST(EngineLifetime, RestartsAndShutdownLeaveNoDescriptorOpenInTheHub) {
  const size_t before = open_descriptors();
  {
    TranslationEngine engine;
    const auto& eng_spa = *engine.catalog().by_name("eng-spa");
    for (int round = 0; round < 3; ++round) {
      auto result = engine.translate(eng_spa, {"The cat is black."});
      ASSERT_TRUE(result.ok()) << result.message;
      for (pid_t pid : engine.pipeline_pids("eng-spa")) ::kill(pid, SIGKILL);
    }
    EXPECT_EQ(engine.pipeline_starts(), 3u);
  }
  EXPECT_EQ(open_descriptors(), before);
}

TEST_F(Engine, AKilledFirstStageDoesNotRaiseSigpipeInTheHub) {
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  const auto pids = engine_.pipeline_pids("eng-spa");
  ASSERT_EQ(::kill(pids.front(), SIGKILL), 0);
  // Writing to the dead stage's socket must fail quietly, not kill us.
  EXPECT_EQ(one("eng-spa", "The cat is black."), "El gato es negro.");
}

TEST_F(Engine, AWholeKilledPipelineIsReplaced) {
  one("fr-es", "Le chat est noir.");
  for (pid_t pid : engine_.pipeline_pids("fr-es")) ::kill(pid, SIGKILL);
  EXPECT_EQ(one("fr-es", "Le garçon mange une pomme."), "El chico come una manzana.");
}

TEST(EngineLifetime, DestroyingTheEngineReapsEveryStage) {
  std::vector<pid_t> pids;
  {
    TranslationEngine engine;
    engine.translate(*engine.catalog().by_name("eng-spa"), {"The house is big."});
    pids = engine.pipeline_pids("eng-spa");
    ASSERT_FALSE(pids.empty());
  }
  for (pid_t pid : pids) {
    EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid))) << pid;
  }
}

TEST_F(Engine, ConcurrentCallersEachGetTheirOwnAnswer) {
  struct Case {
    const char* pair;
    const char* text;
    const char* expected;
  };
  const std::vector<Case> cases{
      {"eng-spa", "The house is big.", "La casa es grande."},
      {"eng-spa", "The cat is black.", "El gato es negro."},
      {"eng-spa", "I have a black dog.", "Tengo un perro negro."},
      {"fr-es", "Le garçon mange une pomme.", "El chico come una manzana."}};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < 10; ++i) {
        const auto& c = cases[(t + i) % cases.size()];
        auto result = engine_.translate(pair(c.pair), {c.text});
        if (!result.ok() || result.translations[0].text != c.expected) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(engine_.pipeline_starts(), 2u);
}

TEST_F(SharedEngine, FormatCharactersCannotDesyncThePipeline) {
  const std::string text = "Price [1] is 5 * 3 \\ ^ $ / < > { } @ # ~ | ok";
  auto result = run("eng-spa", {text});
  ASSERT_TRUE(result.ok()) << result.message;
  const auto starts = engine_.pipeline_starts();
  for (const char* literal :
       {"[1]", "5 * 3", "\\", "^", "$", "/", "<", ">", "{", "}", "@", "#", "~", "|"}) {
    EXPECT_NE(result.translations[0].text.find(literal), std::string::npos)
        << literal << " lost in: " << result.translations[0].text;
  }
  EXPECT_TRUE(result.translations[0].unknown.empty());
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  EXPECT_EQ(engine_.pipeline_starts(), starts);  // no restart: still in step
}

TEST_F(SharedEngine, RefusesNulBytesAndInvalidUtf8) {
  const auto starts = engine_.pipeline_starts();
  auto nul = run("eng-spa", {std::string("The house\0 is big.", 18)});
  EXPECT_EQ(nul.failure, Failure::bad_text);
  EXPECT_EQ(run("eng-spa", {"caf\xC3"}).failure, Failure::bad_text);
  EXPECT_EQ(engine_.pipeline_starts(), starts);
}

TEST_F(SharedEngine, RefusesEmptyAndOversizedText) {
  const auto starts = engine_.pipeline_starts();
  EXPECT_EQ(run("eng-spa", {""}).failure, Failure::empty_text);
  EXPECT_EQ(run("eng-spa", {" \n\t"}).failure, Failure::empty_text);
  EXPECT_EQ(run("eng-spa", {}).failure, Failure::empty_text);
  EXPECT_EQ(run("eng-spa", {"ok", ""}).failure, Failure::empty_text);
  const std::string big(engine_.options().max_text_bytes + 1, 'a');
  auto refused = run("eng-spa", {big});
  EXPECT_EQ(refused.failure, Failure::text_too_long);
  EXPECT_NE(refused.message.find("65536"), std::string::npos) << refused.message;
  const std::string half(engine_.options().max_text_bytes / 2 + 1, 'a');
  EXPECT_EQ(run("eng-spa", {half, half}).failure, Failure::text_too_long);
  std::vector<std::string> many(engine_.options().max_batch_texts + 1, "a");
  EXPECT_EQ(run("eng-spa", many).failure, Failure::too_many_texts);
  EXPECT_EQ(engine_.pipeline_starts(), starts);
}

class SlowEngine : public Engine {
 protected:
  SlowEngine() : Engine(EngineOptions{.request_timeout = std::chrono::milliseconds(1000)}) {}
};

TEST_F(SlowEngine, AHungPipelineTimesOutAndIsReplaced) {
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  const auto pids = engine_.pipeline_pids("eng-spa");
  ASSERT_EQ(::kill(pids[pids.size() / 2], SIGSTOP), 0);
  auto hung = run("eng-spa", {"The cat is black."});
  EXPECT_EQ(hung.failure, Failure::engine_timeout);
  EXPECT_NE(hung.message.find("1000 ms"), std::string::npos) << hung.message;
  EXPECT_TRUE(engine_.pipeline_pids("eng-spa").empty());
  EXPECT_EQ(one("eng-spa", "The cat is black."), "El gato es negro.");
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pids[pids.size() / 2])));
}

TEST_F(SlowEngine, CallersQueuedBehindAHungPipelineWaitOneTimeoutAtMost) {
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  const auto pids = engine_.pipeline_pids("eng-spa");
  ASSERT_EQ(::kill(pids[pids.size() / 2], SIGSTOP), 0);
  TranslateResult first;
  std::thread hung([&] { first = run("eng-spa", {"The cat is black."}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it take the pipeline
  // The queued caller's 1 s runs out about 100 ms after the hung one gives
  // the pipeline up, too soon to translate its ~10,000 words (half a
  // second or more): it gets its 504 then, not a fresh timeout later.
  std::string long_text;
  for (int i = 0; i < 2700; ++i) long_text += "The house is big. ";
  const auto start = std::chrono::steady_clock::now();
  auto queued = run("eng-spa", {long_text});
  const auto waited = std::chrono::steady_clock::now() - start;
  hung.join();
  EXPECT_EQ(first.failure, Failure::engine_timeout);
  EXPECT_EQ(queued.failure, Failure::engine_timeout) << queued.message;
  EXPECT_LT(waited, std::chrono::milliseconds(1400));
  EXPECT_EQ(one("eng-spa", "The cat is black."), "El gato es negro.");
}

TEST_F(SlowEngine, AHungPairDoesNotHoldUpAnotherPair) {
  EXPECT_EQ(one("eng-spa", "The house is big."), "La casa es grande.");
  EXPECT_EQ(one("fr-es", "Le chat est noir."), "El gato es negro.");
  const auto pids = engine_.pipeline_pids("eng-spa");
  ASSERT_EQ(::kill(pids[pids.size() / 2], SIGSTOP), 0);
  TranslateResult hung;
  std::thread eng_spa([&] { hung = run("eng-spa", {"The cat is black."}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // eng-spa is stuck for about 900 ms more; a warm fr-es answer takes ~1 ms.
  const auto start = std::chrono::steady_clock::now();
  auto fr_es = run("fr-es", {"Le garçon mange une pomme."});
  const auto took = std::chrono::steady_clock::now() - start;
  eng_spa.join();
  ASSERT_TRUE(fr_es.ok()) << fr_es.message;
  EXPECT_EQ(fr_es.translations[0].text, "El chico come una manzana.");
  EXPECT_LT(took, std::chrono::milliseconds(500)) << "fr-es waited for the hung eng-spa";
  EXPECT_EQ(hung.failure, Failure::engine_timeout);
}

TEST(EngineWithoutApertium, APairWhoseProgramsAreMissingFailsClearly) {
  auto dir =
      std::filesystem::temp_directory_path() / ("allscene_badmode_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "xxx-yyy.mode")
      << "no-such-apertium-program '/x.bin' | lt-proc $1 '/y.bin'\n";
  {
    TranslationEngine engine(EngineOptions{.modes_dir = dir});
    auto result = engine.translate(*engine.catalog().by_name("xxx-yyy"), {"hello"});
    EXPECT_EQ(result.failure, Failure::engine_failed);
    EXPECT_NE(result.message.find("no-such-apertium-program"), std::string::npos) << result.message;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace allscene::services::translation
