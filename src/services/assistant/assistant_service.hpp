// The "assistant" service (issue #10): a typed or recognised request about
// the owner's devices and services becomes an action on the right device
// or a call to another service, answered in text (and, with a speech hook,
// as audio). Operations:
//   ask   {text | audio (base64 WAV, heard by the speech service), timezone?,
//         device?, choice?, speak?} → {intent, slots, answer, done, heard?, …}
//         or, when the request fits several devices, {clarify: true,
//         question, candidates: [{id, name}], …}; the client asks again
//         with the same text and the chosen `device` (an id), or the
//         user's answer as `choice` ("the bedroom one").
//   parse {text, timezone?} → {intent, slots}: understanding only, nothing
//         acts (evaluation, console).
// See docs/services/assistant.md for the wire format.
//
// Thread-safety: call() may run on several threads at once; the service
// keeps no per-request state and its options are fixed at construction.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "services/service.hpp"

namespace allscene::services {

struct AssistantOptions {
  // The owner's time zone when a request does not name one (IANA name).
  std::string default_timezone = "UTC";
  // The clock reminders are resolved against; system_clock::now if empty.
  // Must be thread-safe.
  std::function<std::chrono::system_clock::time_point()> clock;
  // How long a device has to answer a direct method.
  std::chrono::seconds device_timeout{8};
  // Turns an answer into WAV bytes (the speech service plugs in here);
  // nullopt when it cannot. Without it, `speak` requests answer in text
  // only ("spoken": false). Must be thread-safe.
  std::function<std::optional<std::string>(const std::string& text)> speak;
};

class AssistantService : public Service {
 public:
  // `context.hub` must outlive the service.
  explicit AssistantService(ServiceContext context, AssistantOptions options = {});

  std::string_view name() const override { return "assistant"; }
  std::vector<std::string> operations() const override { return {"ask", "parse"}; }
  Reply call(const Caller& caller, std::string_view operation,
             const nlohmann::json& request) override;
  std::chrono::milliseconds deadline(std::string_view operation) const override;

 private:
  Reply ask(const Caller& caller, const nlohmann::json& request);
  // The request's words: its "text", or what the speech service heard in
  // its "audio" (base64 WAV); a Reply when there are none.
  std::variant<std::string, Reply> request_words(const Caller& caller,
                                                 const nlohmann::json& request);
  // The answer as base64 WAV: through options_.speak, else the speech
  // service; nullopt when neither can.
  std::optional<std::string> spoken(const Caller& caller, const std::string& answer);
  Reply parse(const Caller& caller, const nlohmann::json& request);

  ServiceContext context_;
  AssistantOptions options_;
};

}  // namespace allscene::services
