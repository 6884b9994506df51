#include "services/speech/wav.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "services/speech/resample.hpp"

namespace allscene::services::speech {
namespace {

PcmAudio tone(int rate, double hz, double seconds, double amplitude = 10000.0) {
  PcmAudio a{rate, {}};
  const auto n = static_cast<std::size_t>(rate * seconds);
  for (std::size_t i = 0; i < n; ++i) {
    a.samples.push_back(static_cast<std::int16_t>(
        amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate)));
  }
  return a;
}

void put16(std::string& s, std::size_t at, std::uint16_t v) {
  s[at] = static_cast<char>(v & 0xFF);
  s[at + 1] = static_cast<char>(v >> 8);
}

TEST(Wav, RoundTripKeepsEverySample) {
  PcmAudio a{16000, {0, 1, -1, 32767, -32768, 1234, -4321}};
  const std::string bytes = write_wav(a);
  EXPECT_EQ(bytes.size(), 44u + 2 * a.samples.size());
  auto back = read_wav(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().sample_rate, 16000);
  EXPECT_EQ(back.value().samples, a.samples);
}

TEST(Wav, SkipsUnknownChunksAndOddPadding) {
  std::string bytes = write_wav({22050, {7, 8, 9}});
  // A 3-byte "LIST" chunk (padded to 4) between "fmt " and "data".
  bytes.insert(36, std::string("LIST\x03\x00\x00\x00" "abc" "\x00", 12));
  auto back = read_wav(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().sample_rate, 22050);
  EXPECT_EQ(back.value().samples, (std::vector<std::int16_t>{7, 8, 9}));
}

TEST(Wav, StreamingDataSizeReadsToTheEnd) {
  std::string bytes = write_wav({16000, {1, 2, 3, 4}});
  for (int i = 40; i < 44; ++i) bytes[static_cast<std::size_t>(i)] = '\xFF';
  auto back = read_wav(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().samples.size(), 4u);
}

TEST(Wav, RejectsStereoNaming16BitMono) {
  std::string bytes = write_wav({16000, {1, 2, 3, 4}});
  put16(bytes, 22, 2);  // channels
  auto r = read_wav(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_audio");
  EXPECT_NE(r.error().message.find("2 channels"), std::string::npos);
  EXPECT_NE(r.error().message.find("16-bit PCM mono"), std::string::npos);
}

TEST(Wav, Rejects8BitAndFloatAndOddRates) {
  std::string eight = write_wav({16000, {1, 2}});
  put16(eight, 34, 8);
  EXPECT_NE(read_wav(eight).error().message.find("8 bits"), std::string::npos);

  std::string floats = write_wav({16000, {1, 2}});
  put16(floats, 20, 3);
  EXPECT_NE(read_wav(floats).error().message.find("not PCM"), std::string::npos);

  std::string slow = write_wav({4000, {1, 2}});
  EXPECT_NE(read_wav(slow).error().message.find("4000 Hz"), std::string::npos);
}

TEST(Wav, MalformedInputsAreErrorsNotCrashes) {
  EXPECT_FALSE(read_wav(std::string()).ok());
  EXPECT_FALSE(read_wav(std::string("RIFF")).ok());
  EXPECT_FALSE(read_wav(std::string("RIFF\0\0\0\0WAVE", 12)).ok());
  EXPECT_FALSE(read_wav(std::string("RIFF\0\0\0\0WAVEdata\4\0\0\0abcd", 24)).ok());
  const std::string good = write_wav({16000, {1, 2, 3, 4, 5}});
  // Every truncation, and random bytes over every position of the header.
  for (std::size_t n = 0; n < good.size(); ++n) (void)read_wav(good.substr(0, n));
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string mangled = good;
    mangled[rng() % 44] = static_cast<char>(rng());
    mangled[rng() % mangled.size()] = static_cast<char>(rng());
    auto r = read_wav(mangled);
    if (r.ok()) {
      EXPECT_LE(r.value().samples.size(), mangled.size() / 2);
    }
  }
}

// The filter passes what both rates can carry and removes what the lower
// one cannot (which would otherwise alias into the speech band).
TEST(Resample, KeepsInBandTonesAndRemovesAliases) {
  auto rms = [](const PcmAudio& a) {
    double sum = 0;
    for (auto s : a.samples) sum += static_cast<double>(s) * s;
    return std::sqrt(sum / static_cast<double>(a.samples.size()));
  };
  const auto in_band = resample(tone(22050, 1000, 0.5), 16000);
  EXPECT_EQ(in_band.sample_rate, 16000);
  EXPECT_NEAR(static_cast<double>(in_band.samples.size()), 8000, 1);
  EXPECT_NEAR(rms(in_band), 10000 / std::sqrt(2.0), 200);

  const auto alias = resample(tone(22050, 10000, 0.5), 16000);  // above 8 kHz
  EXPECT_LT(rms(alias), 150);  // ≥ 33 dB down, edge effects included

  const auto up = resample(tone(8000, 440, 0.5), 16000);
  EXPECT_NEAR(rms(up), 10000 / std::sqrt(2.0), 200);
  EXPECT_EQ(resample(PcmAudio{16000, {1, 2}}, 16000).samples, (std::vector<std::int16_t>{1, 2}));
}

}  // namespace
}  // namespace allscene::services::speech
