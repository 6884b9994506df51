#include "services/speech/speech_service.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <optional>

namespace allscene::services::speech {
namespace {

using nlohmann::json;

Reply to_reply(const SpeechError& e) { return Reply::error(e.status, e.code, e.message); }

Reply bad_request(std::string message) {
  return Reply::error(400, "bad_request", std::move(message));
}

std::string to_base64(const std::string& bytes) {
  const std::size_t size = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(size, '\0');
  sodium_bin2base64(out.data(), size, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(size - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> from_base64(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), " \r\n\t", &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

// The devices a recognize request is about: its own list of names, else
// the caller's owner's devices from the hub.
std::optional<std::vector<DeviceName>> request_devices(const json& request, const Caller& caller,
                                                       HubAccess* hub) {
  std::vector<DeviceName> devices;
  if (auto it = request.find("devices"); it != request.end()) {
    if (!it->is_array()) return std::nullopt;
    for (const auto& name : *it) {
      if (!name.is_string()) return std::nullopt;
      devices.push_back({name.get<std::string>(), ""});
    }
    return devices;
  }
  if (hub != nullptr && !caller.user.empty()) {
    for (auto& d : hub->devices(caller.user)) devices.push_back({d.name, d.device_class});
  }
  return devices;
}

}  // namespace

SpeechService::SpeechService(ServiceContext context, RecognizerOptions options)
    : context_(std::move(context)), engine_(std::move(options)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::vector<std::string> SpeechService::operations() const { return {"recognize", "synthesize"}; }

std::chrono::milliseconds SpeechService::deadline(std::string_view operation) const {
  // 30 s of audio decodes in well under 20 s even with the general model's
  // first load; synthesis of 2,000 characters takes a few seconds.
  return operation == "recognize" ? std::chrono::seconds(20) : std::chrono::seconds(10);
}

Reply SpeechService::call(const Caller& caller, std::string_view operation,
                          const nlohmann::json& request) {
  if (!request.is_object()) return bad_request("send a JSON object");
  if (operation == "recognize") return recognize(caller, request);
  if (operation == "synthesize") return synthesize(request);
  return Reply::error(404, "unknown_operation",
                      fmt::format("speech has no operation \"{}\"; use recognize or synthesize",
                                  operation));
}

Reply SpeechService::recognize(const Caller& caller, const nlohmann::json& request) {
  auto audio_field = request.find("audio");
  if (audio_field == request.end() || !audio_field->is_string()) {
    return to_reply(bad_audio("give \"audio\": a base64-encoded 16-bit PCM mono WAV"));
  }
  const auto& text = audio_field->get_ref<const std::string&>();
  if (text.size() / 4 * 3 > SpeechEngine::kMaxWavBytes) {
    return Reply::error(413, "too_long",
                        fmt::format("audio is over {} bytes; send at most 30 s",
                                    SpeechEngine::kMaxWavBytes));
  }
  auto wav = from_base64(text);
  if (!wav) return to_reply(bad_audio("\"audio\" is not valid base64; encode the WAV file as base64"));

  auto devices = request_devices(request, caller, context_.hub);
  if (!devices) return bad_request("\"devices\" must be a list of device names");
  std::string mode = devices->empty() ? "general" : "commands";
  if (auto it = request.find("mode"); it != request.end()) {
    if (!it->is_string() || (*it != "general" && *it != "commands")) {
      return bad_request("\"mode\" must be \"commands\" or \"general\"");
    }
    mode = it->get<std::string>();
  }

  if (wav->size() > SpeechEngine::kMaxWavBytes) {
    return Reply::error(413, "too_long", "audio is too long; send at most 30 s");
  }
  auto audio = read_wav(*wav);
  if (!audio.ok()) return to_reply(audio.error());
  auto& recognizer = engine_.recognizer();
  auto heard = mode == "general" ? recognizer.recognize(audio.value())
                                 : recognizer.recognize(audio.value(), *devices);
  if (!heard.ok()) return to_reply(heard.error());
  const auto& r = heard.value();
  json body{{"text", r.text}, {"words", r.words}, {"mode", mode}, {"ms", r.ms}};
  if (r.confidence) body["confidence"] = *r.confidence;
  return Reply::success(std::move(body));
}

Reply SpeechService::synthesize(const nlohmann::json& request) {
  auto text = request.find("text");
  if (text == request.end() || !text->is_string()) {
    return Reply::error(400, "empty_text", "give the text to speak in \"text\"");
  }
  SynthesisOptions options;
  options.sample_rate = Synthesizer::native_rate();
  if (auto it = request.find("rate"); it != request.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 1000) {
      return bad_request("\"rate\" must be words per minute, 80–450");
    }
    options.words_per_minute = it->get<int>();
  }
  if (auto it = request.find("voice"); it != request.end()) {
    if (!it->is_string()) return bad_request("\"voice\" must be an espeak-ng voice name");
    options.voice = it->get<std::string>();
  }
  if (auto it = request.find("sample_rate"); it != request.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > 1'000'000) {
      return bad_request("\"sample_rate\" must be 8000–48000");
    }
    options.sample_rate = it->get<int>();
  }
  auto audio = engine_.synthesizer().synthesize(text->get<std::string>(), options);
  if (!audio.ok()) return to_reply(audio.error());
  return Reply::success(json{{"audio", to_base64(write_wav(audio.value()))},
                             {"sample_rate", audio.value().sample_rate},
                             {"seconds", audio.value().seconds()}});
}

}  // namespace allscene::services::speech
