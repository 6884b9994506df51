#include "ecosystem_codec.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "azure/azure.hpp"

namespace allscene::sdk::detail {
namespace {

using nlohmann::json;

std::optional<std::int64_t> int_member(const json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::optional<std::uint64_t> size_member(const json& j, std::string_view key) {
  const auto it = j.find(key);
  // Parsed non-negative numbers are unsigned, built ones may be signed.
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) return std::nullopt;
  return it->get<std::uint64_t>();
}

std::vector<std::string> string_array(const json& j, std::string_view key) {
  std::vector<std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool is_hex_sha256(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string GroupTopics::notification(std::string_view origin, std::string_view id) const {
  return base_ + "notifications/" + std::string(origin) + "/" + std::string(id);
}
std::string GroupTopics::activity(std::string_view device) const {
  return base_ + "activities/" + std::string(device);
}
std::string GroupTopics::media(std::string_view device) const {
  return base_ + "media/" + std::string(device);
}
std::string GroupTopics::file_read(std::string_view sender) const {
  return base_ + "inbox/" + std::string(sender) + "/file-read";
}
std::string GroupTopics::file_status(std::string_view sender) const {
  return base_ + "inbox/" + std::string(sender) + "/file-status";
}
std::string GroupTopics::file_data(std::string_view receiver, std::string_view transfer,
                                   std::uint64_t offset) const {
  return base_ + "inbox/" + std::string(receiver) + "/file-data/" + std::string(transfer) + "/" +
         std::to_string(offset);
}
std::string GroupTopics::file_error(std::string_view receiver, std::string_view transfer) const {
  return base_ + "inbox/" + std::string(receiver) + "/file-error/" + std::string(transfer);
}

std::optional<std::vector<std::string_view>> GroupTopics::levels(std::string_view topic) const {
  if (!topic.starts_with(base_)) return std::nullopt;
  topic.remove_prefix(base_.size());
  std::vector<std::string_view> out;
  for (;;) {
    const auto slash = topic.find('/');
    out.push_back(topic.substr(0, slash));
    if (slash == std::string_view::npos) break;
    topic.remove_prefix(slash + 1);
  }
  return out;
}

std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return text;
}

std::optional<json> parse_object(std::string_view payload) {
  json j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::string string_member(const json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::optional<DeviceCard> parse_card(std::string_view payload) {
  const auto j = parse_object(payload);
  if (!j) return std::nullopt;
  DeviceCard card;
  card.device_id = string_member(*j, "deviceId");
  if (card.device_id.empty()) return std::nullopt;
  card.name = string_member(*j, "name");
  card.device_class = string_member(*j, "class");
  if (const auto it = j->find("online"); it != j->end() && it->is_boolean()) {
    card.online = it->get<bool>();
  }
  card.last_seen = string_member(*j, "lastSeen");
  if (const auto it = j->find("battery"); it != j->end() && it->is_object()) {
    Battery b;
    b.level = static_cast<int>(int_member(*it, "level").value_or(0));
    if (const auto c = it->find("charging"); c != it->end() && c->is_boolean()) {
      b.charging = c->get<bool>();
    }
    card.battery = b;
  }
  card.capabilities = string_array(*j, "capabilities");
  if (const auto it = j->find("commands"); it != j->end() && it->is_object()) {
    for (const auto& [name, spec] : it->items()) {
      if (!spec.is_object()) continue;
      card.commands[name] = CommandInfo{string_member(spec, "label"), string_array(spec, "allow")};
    }
  }
  return card;
}

json to_json(const ClipboardItem& item) {
  json j = {{"from", item.from}, {"time", item.time}, {"mime", item.mime}};
  if (item.data.empty() && item.name.empty()) {
    j["text"] = item.text;
  } else {
    j["name"] = item.name;
    j["data"] = azure::base64_encode(item.data);
  }
  return j;
}

std::optional<ClipboardItem> parse_clipboard(std::string_view payload) {
  const auto j = parse_object(payload);
  if (!j) return std::nullopt;
  ClipboardItem item;
  item.from = string_member(*j, "from");
  item.time = string_member(*j, "time");
  item.mime = string_member(*j, "mime");
  if (item.mime.empty()) return std::nullopt;
  if (const auto it = j->find("data"); it != j->end()) {
    if (!it->is_string()) return std::nullopt;
    auto data = azure::base64_decode(it->get_ref<const std::string&>());
    if (!data || data->size() > kMaxClipboardData) return std::nullopt;
    item.data = std::move(*data);
    item.name = string_member(*j, "name");
  } else {
    const auto text = j->find("text");
    if (text == j->end() || !text->is_string()) return std::nullopt;
    item.text = text->get<std::string>();
  }
  return item;
}

json to_json(const Notification& n) {
  json actions = json::array();
  for (const auto& a : n.actions) actions.push_back({{"id", a.id}, {"label", a.label}});
  return {{"app", n.app},   {"title", n.title},   {"body", n.body},
          {"time", n.time}, {"actions", actions}, {"reply", n.reply}};
}

std::optional<Notification> parse_notification(std::string_view payload, std::string origin,
                                               std::string id) {
  const auto j = parse_object(payload);
  if (!j) return std::nullopt;
  Notification n;
  n.origin = std::move(origin);
  n.id = std::move(id);
  n.app = string_member(*j, "app");
  n.title = string_member(*j, "title");
  n.body = string_member(*j, "body");
  n.time = string_member(*j, "time");
  if (const auto it = j->find("actions"); it != j->end() && it->is_array()) {
    for (const auto& a : *it) {
      if (!a.is_object() || string_member(a, "id").empty()) continue;
      n.actions.push_back({string_member(a, "id"), string_member(a, "label")});
    }
  }
  if (const auto it = j->find("reply"); it != j->end() && it->is_boolean())
    n.reply = it->get<bool>();
  if (n.app.empty() && n.title.empty() && n.body.empty()) return std::nullopt;  // nothing to show
  return n;
}

json to_json(const Activity& a) {
  return {{"app", a.app},
          {"title", a.title},
          {"uri", a.uri},
          {"state", a.state.is_null() ? json::object() : a.state},
          {"time", a.time}};
}

std::optional<Activity> parse_activity(const json& j, std::string device) {
  if (!j.is_object()) return std::nullopt;
  Activity a;
  a.device_id = std::move(device);
  a.app = string_member(j, "app");
  a.title = string_member(j, "title");
  a.uri = string_member(j, "uri");
  a.time = string_member(j, "time");
  if (const auto it = j.find("state"); it != j.end()) a.state = *it;
  if (a.app.empty() && a.uri.empty()) return std::nullopt;
  return a;
}

json to_json(const NowPlaying& m) {
  return {{"state", m.state},
          {"title", m.title},
          {"artist", m.artist},
          {"album", m.album},
          {"positionMs", m.position_ms},
          {"durationMs", m.duration_ms},
          {"volume", m.volume}};
}

std::optional<NowPlaying> parse_now_playing(const json& j, std::string device) {
  if (!j.is_object()) return std::nullopt;
  NowPlaying m;
  m.device_id = std::move(device);
  m.state = string_member(j, "state");
  if (m.state != "playing" && m.state != "paused" && m.state != "stopped") return std::nullopt;
  m.title = string_member(j, "title");
  m.artist = string_member(j, "artist");
  m.album = string_member(j, "album");
  m.position_ms = int_member(j, "positionMs").value_or(0);
  m.duration_ms = int_member(j, "durationMs").value_or(0);
  m.volume = static_cast<int>(int_member(j, "volume").value_or(0));
  return m;
}

json to_json(const FileOffer& offer) {
  return {{"transfer", offer.transfer},
          {"name", offer.name},
          {"size", offer.size},
          {"sha256", offer.sha256},
          {"mime", offer.mime}};
}

std::optional<FileOffer> parse_offer(const json& j) {
  if (!j.is_object()) return std::nullopt;
  FileOffer offer;
  offer.transfer = string_member(j, "transfer");
  offer.from = string_member(j, "from");
  offer.name = string_member(j, "name");
  offer.sha256 = string_member(j, "sha256");
  offer.mime = string_member(j, "mime");
  const auto size = size_member(j, "size");
  if (!size || offer.transfer.empty() || offer.from.empty() || !is_hex_sha256(offer.sha256) ||
      offer.transfer.find_first_of("/+#") != std::string::npos ||
      safe_file_name(offer.name).empty()) {
    return std::nullopt;
  }
  offer.size = *size;
  return offer;
}

json to_json(const ChunkRequest& r) {
  return {{"transfer", r.transfer}, {"from", r.from}, {"offset", r.offset}, {"length", r.length}};
}

std::optional<ChunkRequest> parse_chunk_request(std::string_view payload) {
  const auto j = parse_object(payload);
  if (!j) return std::nullopt;
  ChunkRequest r;
  r.transfer = string_member(*j, "transfer");
  r.from = string_member(*j, "from");
  const auto offset = size_member(*j, "offset");
  const auto length = size_member(*j, "length");
  if (r.transfer.empty() || r.from.empty() || !offset || !length || *length == 0 ||
      *length > kMaxChunk) {
    return std::nullopt;
  }
  r.offset = *offset;
  r.length = *length;
  return r;
}

json to_json(const FileStatus& s) {
  return {{"transfer", s.transfer}, {"from", s.from}, {"state", s.state}, {"received", s.received}};
}

std::optional<FileStatus> parse_file_status(std::string_view payload) {
  const auto j = parse_object(payload);
  if (!j) return std::nullopt;
  FileStatus s;
  s.transfer = string_member(*j, "transfer");
  s.from = string_member(*j, "from");
  s.state = string_member(*j, "state");
  s.received = size_member(*j, "received").value_or(0);
  if (s.transfer.empty() || s.from.empty()) return std::nullopt;
  if (s.state != "receiving" && s.state != "complete" && s.state != "failed" &&
      s.state != "declined") {
    return std::nullopt;
  }
  return s;
}

std::string safe_file_name(std::string_view offered) {
  const auto slash = offered.find_last_of("/\\");
  if (slash != std::string_view::npos) offered.remove_prefix(slash + 1);
  if (offered.empty() || offered == "." || offered == "..") return {};
  for (const char c : offered) {
    if (static_cast<unsigned char>(c) < 0x20) return {};
  }
  return std::string(offered);
}

}  // namespace allscene::sdk::detail
