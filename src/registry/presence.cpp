#include "registry/presence.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace allscene::registry {

namespace {

constexpr std::string_view kCollection = "presence";

}  // namespace

Presence::Presence(RegistryStorage& storage, WallClock now)
    : storage_(storage), now_(std::move(now)) {}

std::int64_t Presence::now_ms() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Presence::signed_in(std::string_view identity, std::string_view) {
  const auto now = now_ms();
  bool came_online = false;
  {
    std::lock_guard lock(mutex_);
    auto& e = devices_[std::string(identity)];
    came_online = e.connections++ == 0;
    e.last_seen_ms = now;
    e.dirty = true;
  }
  if (came_online && listener_) listener_(std::string(identity), true, now, {});
}

void Presence::signed_out(std::string_view identity, std::string_view, std::string_view reason) {
  const auto now = now_ms();
  bool went_offline = false;
  {
    std::lock_guard lock(mutex_);
    auto it = devices_.find(std::string(identity));
    if (it == devices_.end()) return;
    if (it->second.connections > 0) went_offline = --it->second.connections == 0;
    it->second.last_seen_ms = now;
    it->second.dirty = true;
  }
  if (went_offline && listener_) listener_(std::string(identity), false, now, reason);
}

PresenceState Presence::current(std::string_view device_id) const {
  std::lock_guard lock(mutex_);
  const auto it = devices_.find(std::string(device_id));
  if (it == devices_.end()) return {};
  return {it->second.connections > 0, it->second.last_seen_ms};
}

void Presence::flush() {
  std::vector<std::pair<std::string, std::string>> changed;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : devices_) {
      if (!e.dirty) continue;
      e.dirty = false;
      changed.emplace_back(id, nlohmann::json{{"id", id},
                                              {"connected", e.connections > 0},
                                              {"last_seen_ms", e.last_seen_ms}}
                                   .dump());
    }
  }
  if (changed.empty()) return;
  try {
    storage_.record(kCollection, changed);
  } catch (...) {
    std::lock_guard lock(mutex_);
    for (const auto& [id, body] : changed) devices_[id].dirty = true;  // next time
    throw;
  }
}

void Presence::reset() {
  std::vector<std::pair<std::string, std::string>> stale;
  for (const auto& [id, state] : read(storage_)) {
    if (!state.connected) continue;
    stale.emplace_back(
        id, nlohmann::json{{"id", id}, {"connected", false}, {"last_seen_ms", state.last_seen_ms}}
                .dump());
  }
  if (!stale.empty()) storage_.record(kCollection, stale);
}

std::map<std::string, PresenceState> Presence::read(RegistryStorage& storage) {
  std::map<std::string, PresenceState> out;
  for (const auto& body : storage.load(kCollection)) {
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    // A document that is not what flush() writes is skipped, not trusted.
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) continue;
    PresenceState s;
    if (auto c = j.find("connected"); c != j.end() && c->is_boolean()) s.connected = c->get<bool>();
    if (auto t = j.find("last_seen_ms"); t != j.end() && t->is_number_integer()) {
      s.last_seen_ms = t->get<std::int64_t>();
    }
    out[j["id"].get<std::string>()] = s;
  }
  return out;
}

}  // namespace allscene::registry
