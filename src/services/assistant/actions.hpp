// What the assistant does for each understood intent: direct methods on
// the owner's devices (the ecosystem feature methods), other services
// (translation, travel) and the device cards. Thread-safe: no shared state.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/assistant/parser.hpp"
#include "services/service.hpp"

namespace allscene::services::assistant {

struct ActionContext {
  HubAccess& hub;
  const Caller& caller;
  const std::vector<DeviceInfo>& devices;
  const date::time_zone& zone;
  std::chrono::seconds device_timeout;
};

// The outcome for people and programs: `answer` is a sentence, `done`
// whether the request was carried out, `extra` more fields for the reply
// (the new media state, the activity, the translation, …).
struct Outcome {
  std::string answer;
  bool done = false;
  nlohmann::json extra = nlohmann::json::object();
};

// Acts on a parsed request whose target (if any) is resolved: slots hold
// "device", never "ambiguous".
Outcome act(const ActionContext& context, const ParseResult& request);

// Invokes a direct method (a feature method of docs/protocol.md, its
// payload's "from" set to the asking device) and waits for its answer
// (504 after the context's device timeout plus a margin if the hub never
// calls back).
Reply invoke_and_wait(const ActionContext& context, const std::string& device_id,
                      const std::string& method, nlohmann::json payload);

}  // namespace allscene::services::assistant
