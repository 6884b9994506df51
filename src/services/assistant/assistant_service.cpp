#include "services/assistant/assistant_service.hpp"

#include <date/tz.h>
#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <variant>

#include "services/assistant/actions.hpp"
#include "services/assistant/devices.hpp"
#include "services/assistant/parser.hpp"

namespace allscene::services {

namespace {

using nlohmann::json;
namespace a = assistant;

constexpr std::size_t kMaxText = 1000;

// The request's text, or the reply that explains what is wrong with it.
std::variant<std::string, Reply> request_text(const json& request) {
  if (!request.is_object() || !request.contains("text") || !request["text"].is_string()) {
    return Reply::error(400, "bad_request",
                        "send a JSON object with \"text\": the request as a string");
  }
  std::string text = request["text"];
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Reply::error(400, "empty_text", "\"text\" is empty: say what you would like done");
  }
  if (text.size() > kMaxText) {
    return Reply::error(413, "text_too_long",
                        fmt::format("\"text\" is longer than {} bytes: say it shorter", kMaxText));
  }
  return text;
}

std::variant<const date::time_zone*, Reply> request_zone(const json& request,
                                                         const std::string& fallback) {
  std::string name = fallback;
  if (request.contains("timezone")) {
    if (!request["timezone"].is_string()) {
      return Reply::error(400, "bad_timezone",
                          "\"timezone\" must be an IANA name such as "
                          "\"Europe/Madrid\"");
    }
    name = request["timezone"];
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return Reply::error(400, "unknown_timezone",
                        fmt::format("unknown time zone \"{}\": use an IANA name such as "
                                    "\"Europe/Madrid\"",
                                    name));
  }
}

std::string device_name(const std::vector<DeviceInfo>& devices, const std::string& id) {
  for (const auto& d : devices) {
    if (d.id == id) return d.name;
  }
  return id;
}

std::string or_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// The noun of the question: "speaker" when every candidate is one.
std::string kind_of(const std::vector<DeviceInfo>& devices, const json& ids) {
  std::string kind;
  for (const auto& id : ids) {
    for (const auto& d : devices) {
      if (d.id != id) continue;
      if (!kind.empty() && kind != d.device_class) return "device";
      kind = d.device_class;
    }
  }
  if (kind == "audio") return "speaker";
  return kind.empty() ? "device" : kind;
}

json clarification(const std::vector<DeviceInfo>& devices, const a::ParseResult& p) {
  const json& ids = p.slots["ambiguous"];
  json candidates = json::array();
  std::vector<std::string> names;
  for (const auto& id : ids) {
    names.push_back(device_name(devices, id));
    candidates.push_back({{"id", id}, {"name", names.back()}});
  }
  const std::string question =
      names.empty() ? "None of your devices can do that."
                    : fmt::format("Which {}: {}?", kind_of(devices, ids), or_list(names));
  return {{"intent", p.intent},   {"slots", p.slots},         {"clarify", !names.empty()},
          {"question", question}, {"candidates", candidates}, {"answer", question},
          {"done", false}};
}

std::string base64(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace

AssistantService::AssistantService(ServiceContext context, AssistantOptions options)
    : context_(std::move(context)), options_(std::move(options)) {
  if (context_.hub == nullptr) throw std::invalid_argument("assistant: the service needs a hub");
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  date::locate_zone(options_.default_timezone);  // throws at start-up if unknown
}

std::chrono::milliseconds AssistantService::deadline(std::string_view operation) const {
  if (operation == "parse") return std::chrono::seconds(2);
  // Handoff waits for two devices in turn.
  return 2 * options_.device_timeout + std::chrono::seconds(4);
}

Reply AssistantService::call(const Caller& caller, std::string_view operation,
                             const json& request) {
  if (operation == "ask") return ask(caller, request);
  if (operation == "parse") return parse(caller, request);
  return Reply::error(
      404, "unknown_operation",
      fmt::format("the assistant has no operation \"{}\": use ask or parse", operation));
}

Reply AssistantService::parse(const Caller& caller, const json& request) {
  auto text = request_text(request);
  if (auto* error = std::get_if<Reply>(&text)) return *error;
  auto zone = request_zone(request, options_.default_timezone);
  if (auto* error = std::get_if<Reply>(&zone)) return *error;
  const a::ParseContext context{context_.hub->devices(caller.user), caller.device_id,
                                options_.clock(), std::get<const date::time_zone*>(zone)};
  const auto result = a::parse(std::get<std::string>(text), context);
  return Reply::success({{"intent", result.intent}, {"slots", result.slots}});
}

std::variant<std::string, Reply> AssistantService::request_words(const Caller& caller,
                                                                 const json& request) {
  if (!request.is_object() || !request.contains("audio") || request.contains("text")) {
    return request_text(request);
  }
  // Spoken: the speech service hears it with a grammar of this owner's
  // device names.
  Reply heard = context_.hub->call(caller, "speech", "recognize", {{"audio", request["audio"]}});
  if (!heard.ok()) return heard;
  std::string text = heard.body.value("text", "");
  if (text.empty()) {
    return Reply::error(422, "not_understood",
                        "nothing recognisable was heard: speak closer to the microphone, or type "
                        "the request");
  }
  return text;
}

std::optional<std::string> AssistantService::spoken(const Caller& caller,
                                                    const std::string& answer) {
  if (options_.speak) {
    const auto wav = options_.speak(answer);
    return wav ? std::optional<std::string>(base64(*wav)) : std::nullopt;
  }
  const Reply said = context_.hub->call(caller, "speech", "synthesize", {{"text", answer}});
  if (!said.ok() || !said.body.contains("audio") || !said.body["audio"].is_string()) {
    return std::nullopt;
  }
  return said.body["audio"].get<std::string>();
}

Reply AssistantService::ask(const Caller& caller, const json& request) {
  auto text = request_words(caller, request);
  if (auto* error = std::get_if<Reply>(&text)) return *error;
  auto zone = request_zone(request, options_.default_timezone);
  if (auto* error = std::get_if<Reply>(&zone)) return *error;
  const auto devices = context_.hub->devices(caller.user);
  const a::ParseContext context{devices, caller.device_id, options_.clock(),
                                std::get<const date::time_zone*>(zone)};
  auto parsed = a::parse(std::get<std::string>(text), context);

  // The answer to an earlier question: the same text and the chosen device.
  if (request.contains("device")) {
    const json& chosen = request["device"];
    const auto is_chosen = [&](const DeviceInfo& d) { return d.id == chosen; };
    if (!chosen.is_string() || std::none_of(devices.begin(), devices.end(), is_chosen)) {
      return Reply::error(400, "unknown_device",
                          "\"device\" must be the id of one of your devices (from candidates)");
    }
    if (parsed.slots.contains("ambiguous") || parsed.slots.contains("device")) {
      parsed.slots.erase("ambiguous");
      parsed.slots["device"] = chosen;
    }
  }
  // Or the spoken answer to it: "the bedroom one".
  if (request.contains("choice") && parsed.slots.contains("ambiguous")) {
    if (!request["choice"].is_string()) {
      return Reply::error(400, "bad_request",
                          "\"choice\" must be the answer to the question, "
                          "as text");
    }
    std::vector<DeviceInfo> offered;
    for (const auto& id : parsed.slots["ambiguous"]) {
      for (const auto& d : devices) {
        if (d.id == id) offered.push_back(d);
      }
    }
    if (const auto chosen = a::choose(request["choice"].get<std::string>(), offered)) {
      parsed.slots.erase("ambiguous");
      parsed.slots["device"] = *chosen;
    }
  }
  json body;
  if (parsed.slots.contains("ambiguous")) {
    body = clarification(devices, parsed);
  } else {
    const a::ActionContext action{*context_.hub, caller, devices,
                                  *std::get<const date::time_zone*>(zone), options_.device_timeout};
    const auto outcome = a::act(action, parsed);
    body = outcome.extra;
    body["intent"] = parsed.intent;
    body["slots"] = parsed.slots;
    body["answer"] = outcome.answer;
    body["done"] = outcome.done;
    if (parsed.slots.contains("device")) {
      const std::string id = parsed.slots["device"];
      body["device"] = {{"id", id}, {"name", device_name(devices, id)}};
    }
  }
  if (request.contains("audio")) body["heard"] = std::get<std::string>(text);
  if (const auto speak = request.find("speak");
      speak != request.end() && speak->is_boolean() && speak->get<bool>()) {
    const auto audio = spoken(caller, body.value("answer", body.value("question", "")));
    body["spoken"] = audio.has_value();
    if (audio) body["audio"] = {{"mime", "audio/wav"}, {"base64", *audio}};
  }
  return Reply::success(std::move(body));
}

}  // namespace allscene::services
