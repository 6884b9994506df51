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

// Between bridged hubs: "users/{owner}/relay/call/{target}" carries a
// call, "users/{owner}/relay/result/{hub}/{rid}" its answer.
std::string relay_call_topic(std::string_view owner, std::string_view target);
std::string relay_result_topic(std::string_view owner, std::string_view hub, std::string_view rid);

// A topic of the hubs' own under users/{owner}/: a card, a relayed call,
// or a relayed answer; nullopt for anything else.
struct GroupTopic {
  enum class Kind { card, relay_call, relay_result };
  Kind kind = Kind::card;
  std::string owner;
  std::string device;  // card, relay_call
  std::string hub;     // relay_result
  std::string rid;     // relay_result
};
std::optional<GroupTopic> parse_group_topic(std::string_view topic);

// Twins mirrored between bridged hubs: the hub that hosts a device keeps
// its service view (Azure's twin JSON) retained on
// "$hubs/{owner}/twins/{device}"; another hub sends it a patch on
// "$hubs/{owner}/twins/{device}/patch". Under "$hubs/", which no device's
// default access reaches, only gateways (for their own owner).
inline constexpr std::string_view kTwinMirrorFilter = "$hubs/+/twins/#";
std::string twin_mirror_topic(std::string_view owner, std::string_view device_id);
std::string twin_patch_topic(std::string_view owner, std::string_view device_id);
struct TwinTopic {
  std::string owner;
  std::string device;
  bool patch = false;
};
std::optional<TwinTopic> parse_twin_topic(std::string_view topic);

}  // namespace allscene::ecosystem
