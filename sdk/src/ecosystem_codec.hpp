// The ecosystem's topics and JSON payloads (docs/protocol.md, "Cross-device
// ecosystem"): pure functions, no I/O. Parsers return nullopt for anything
// that is not the shape the protocol gives (wrong JSON types included);
// optional fields of the wrong type are left at their defaults.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allscene/ecosystem.hpp"
#include "protocol.hpp"  // valid_topic_level

namespace allscene::sdk::detail {

inline constexpr std::size_t kMaxClipboardData = 512 * 1024;
inline constexpr std::size_t kMaxChunk = 256 * 1024;

// The topics of one user's group, seen from device `self`.
class GroupTopics {
 public:
  GroupTopics(std::string user, std::string self)
      : base_("users/" + std::move(user) + "/"), self_(std::move(self)) {}

  std::string devices_filter() const { return base_ + "devices/+"; }
  std::string clipboard() const { return base_ + "clipboard"; }
  std::string notifications_filter() const { return base_ + "notifications/+/+"; }
  std::string notification(std::string_view origin, std::string_view id) const;
  std::string activities_filter() const { return base_ + "activities/+"; }
  std::string activity(std::string_view device) const;
  std::string media_filter() const { return base_ + "media/+"; }
  std::string media(std::string_view device) const;
  std::string own_inbox_filter() const { return base_ + "inbox/" + self_ + "/#"; }
  std::string file_read(std::string_view sender) const;
  std::string file_status(std::string_view sender) const;
  std::string file_data(std::string_view receiver, std::string_view transfer,
                        std::uint64_t offset) const;
  std::string file_error(std::string_view receiver, std::string_view transfer) const;

  // The levels of `topic` after "users/{u}/" (nullopt: not this group's).
  std::optional<std::vector<std::string_view>> levels(std::string_view topic) const;

 private:
  std::string base_;
  std::string self_;
};

// The current UTC time as the protocol writes it: "2026-11-24T14:00:00.000Z".
std::string iso_now();

// A JSON object from `payload`, or nullopt.
std::optional<nlohmann::json> parse_object(std::string_view payload);
// The string member `key` of object `j`, or "" when absent or not a string.
std::string string_member(const nlohmann::json& j, std::string_view key);

std::optional<DeviceCard> parse_card(std::string_view payload);

nlohmann::json to_json(const ClipboardItem& item);  // data base64-encoded
std::optional<ClipboardItem> parse_clipboard(std::string_view payload);

nlohmann::json to_json(const Notification& n);  // without origin and id (they are in the topic)
std::optional<Notification> parse_notification(std::string_view payload, std::string origin,
                                               std::string id);

nlohmann::json to_json(const Activity& a);  // without device_id
std::optional<Activity> parse_activity(const nlohmann::json& j, std::string device);

nlohmann::json to_json(const NowPlaying& m);  // without device_id
std::optional<NowPlaying> parse_now_playing(const nlohmann::json& j, std::string device);

nlohmann::json to_json(const FileOffer& offer);  // without from (the hub sets it)
std::optional<FileOffer> parse_offer(const nlohmann::json& j);

// The file-read request {"transfer","from","offset","length"}.
struct ChunkRequest {
  std::string transfer;
  std::string from;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
nlohmann::json to_json(const ChunkRequest& r);
std::optional<ChunkRequest> parse_chunk_request(std::string_view payload);

// The file-status message {"transfer","from","state","received"}.
struct FileStatus {
  std::string transfer;
  std::string from;
  std::string state;  // receiving, complete, failed, declined
  std::uint64_t received = 0;
};
nlohmann::json to_json(const FileStatus& s);
std::optional<FileStatus> parse_file_status(std::string_view payload);

// A file name safe to create in the downloads folder: the last path
// component, not "." or "..", no separators or control characters; ""
// when nothing usable is left.
std::string safe_file_name(std::string_view offered);

}  // namespace allscene::sdk::detail
