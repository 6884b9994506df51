#include "services/speech/wav.hpp"

#include <cstring>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace allscene::services::speech {
namespace {

constexpr int kMinRate = 8000;
constexpr int kMaxRate = 48000;
constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;

// Little-endian reads over a bounded window; every read is checked.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::size_t remaining() const { return bytes_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool skip(std::size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  std::optional<std::uint32_t> u32() { return read<std::uint32_t>(4); }
  std::optional<std::uint16_t> u16() { return read<std::uint16_t>(2); }
  std::optional<std::string_view> tag() {
    if (remaining() < 4) return std::nullopt;
    std::string_view out(reinterpret_cast<const char*>(bytes_.data() + pos_), 4);
    pos_ += 4;
    return out;
  }

 private:
  template <typename T>
  std::optional<T> read(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    T value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      value |= static_cast<T>(std::to_integer<unsigned>(bytes_[pos_ + i]) << (8 * i));
    }
    pos_ += n;
    return value;
  }

  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

struct Format {
  std::uint16_t tag = 0;
  std::uint16_t channels = 0;
  std::uint32_t rate = 0;
  std::uint16_t bits = 0;
};

const char* const kExpected = "send 16-bit PCM mono WAV (16 kHz preferred)";

std::optional<SpeechError> check_format(const Format& f) {
  if (f.tag != kFormatPcm && f.tag != kFormatExtensible) {
    return bad_audio(fmt::format("WAV format {} is not PCM; {}", f.tag, kExpected));
  }
  if (f.channels != 1) {
    return bad_audio(fmt::format("WAV has {} channels; {}", f.channels, kExpected));
  }
  if (f.bits != 16) {
    return bad_audio(fmt::format("WAV has {} bits per sample; {}", f.bits, kExpected));
  }
  if (f.rate < kMinRate || f.rate > kMaxRate) {
    return bad_audio(fmt::format("WAV sample rate {} Hz is outside {}–{} Hz; {}", f.rate,
                                 kMinRate, kMaxRate, kExpected));
  }
  return std::nullopt;
}

std::optional<Format> read_fmt_chunk(Reader chunk) {
  Format f;
  auto tag = chunk.u16();
  auto channels = chunk.u16();
  auto rate = chunk.u32();
  if (!tag || !channels || !rate || !chunk.skip(6)) return std::nullopt;  // byte rate, align
  auto bits = chunk.u16();
  if (!bits) return std::nullopt;
  f = {*tag, *channels, *rate, *bits};
  if (f.tag == kFormatExtensible) {
    // cbSize, valid bits, channel mask, then the subformat GUID whose first
    // two bytes are the real format tag.
    if (!chunk.skip(2 + 2 + 4)) return std::nullopt;
    auto sub = chunk.u16();
    if (!sub) return std::nullopt;
    f.tag = *sub == kFormatPcm ? kFormatExtensible : *sub;
  }
  return f;
}

PcmAudio decode_samples(std::span<const std::byte> data, int rate) {
  PcmAudio audio;
  audio.sample_rate = rate;
  audio.samples.resize(data.size() / 2);
  for (std::size_t i = 0; i < audio.samples.size(); ++i) {
    auto lo = std::to_integer<std::uint16_t>(data[2 * i]);
    auto hi = std::to_integer<std::uint16_t>(data[2 * i + 1]);
    audio.samples[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
  }
  return audio;
}

}  // namespace

Result<PcmAudio> read_wav(std::span<const std::byte> bytes) {
  Reader r(bytes);
  auto riff = r.tag();
  auto riff_size = r.u32();
  auto wave = r.tag();
  if (!riff || !riff_size || !wave || *riff != "RIFF" || *wave != "WAVE") {
    return bad_audio(std::string("not a RIFF/WAVE file; ") + kExpected);
  }
  std::optional<Format> format;
  while (r.remaining() >= 8) {
    auto id = *r.tag();
    std::size_t size = *r.u32();
    std::size_t available = std::min(size, r.remaining());
    auto body = bytes.subspan(r.position(), available);
    if (id == "fmt ") {
      format = read_fmt_chunk(Reader(body));
      if (!format) return bad_audio("WAV 'fmt ' chunk is truncated");
      if (auto error = check_format(*format)) return *error;
    } else if (id == "data") {
      if (!format) return bad_audio("WAV 'data' chunk comes before its 'fmt ' chunk");
      return decode_samples(body, static_cast<int>(format->rate));
    }
    // Chunks are padded to an even size.
    if (!r.skip(available) || (size % 2 == 1 && !r.skip(1))) break;
  }
  return bad_audio(format ? "WAV has no 'data' chunk" : "WAV has no 'fmt ' chunk");
}

Result<PcmAudio> read_wav(const std::string& bytes) {
  return read_wav(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

std::string write_wav(const PcmAudio& audio) {
  const auto data_bytes = static_cast<std::uint32_t>(audio.samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  auto put32 = [&out](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto put16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
  };
  const auto rate = static_cast<std::uint32_t>(audio.sample_rate);
  out += "RIFF";
  put32(36 + data_bytes);
  out += "WAVEfmt ";
  put32(16);
  put16(kFormatPcm);
  put16(1);         // channels
  put32(rate);
  put32(rate * 2);  // byte rate
  put16(2);         // block align
  put16(16);        // bits per sample
  out += "data";
  put32(data_bytes);
  for (std::int16_t s : audio.samples) put16(static_cast<std::uint16_t>(s));
  return out;
}

}  // namespace allscene::services::speech
