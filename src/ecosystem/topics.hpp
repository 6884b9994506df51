// Naming of the cross-device topics the hub itself speaks (docs/protocol.md,
// "Cross-device ecosystem"). Pure: parse and build, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace allscene::ecosystem {

inline constexpr std::string_view kPrefix = "$ecosystem/";
// The call target that is the hub itself ($ecosystem/call/$hub/whoami).
inline constexpr std::string_view kHubTarget = "$hub";
// What a device subscribes to for the answers to its calls.
inline constexpr std::string_view kCallResults = "$ecosystem/res/#";

// "$ecosystem/call/{target}/{method}/?$rid={rid}[&$timeout={seconds}]".
struct CallRequest {
  std::string target;
  std::string method;
  std::string rid;
  std::optional<std::chrono::seconds> timeout;  // absent: the default
};

// Why a topic under "$ecosystem/" is not a call; the rid when one could be
// read (so the caller can still be answered).
struct CallTopicError {
  std::string message;
  std::string rid;
};

// A call, or why not. Target and method are single non-empty levels; the
// rid is required; $timeout, when present, is a whole number of seconds.
struct ParsedCall {
  std::optional<CallRequest> call;
  CallTopicError error;
};
ParsedCall parse_call(std::string_view topic);

// "$ecosystem/res/{status}/?$rid={rid}".
std::string call_result_topic(int status, std::string_view rid);

// "users/{owner}/devices/{device}": the device's card, kept by the hub.
std::string card_topic(std::string_view owner, std::string_view device_id);

}  // namespace allscene::ecosystem
