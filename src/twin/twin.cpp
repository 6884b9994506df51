#include "twin/twin.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace allscene::twin {

namespace {

using nlohmann::json;

// Azure's rule for property names: no '$' first, no '.', no space, no
// control characters (C0, DEL, C1 as UTF-8).
bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > 1024 || key.front() == '$') return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7F || c == '.' || c == ' ') return false;
    if (c == 0xC2 && i + 1 < key.size()) {
      const auto next = static_cast<unsigned char>(key[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return false;
    }
  }
  return true;
}

void check_keys(const json& patch, const std::string& path) {
  for (const auto& [key, value] : patch.items()) {
    if (!valid_key(key)) {
      throw TwinError(400, fmt::format("property name '{}{}' is not allowed: names may not start "
                                       "with '$' or hold '.', spaces or control characters",
                                       path, key));
    }
    if (value.is_object()) check_keys(value, path + key + ".");
  }
}

int depth(const json& value) {
  if (!value.is_object()) return 0;
  int deepest = 0;
  for (const auto& [key, child] : value.items()) deepest = std::max(deepest, depth(child));
  return deepest + 1;
}

}  // namespace

std::string iso8601(std::int64_t ms) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", std::chrono::floor<std::chrono::seconds>(t),
                     ms % 1000);
}

namespace {

// Mirrors a merge patch into the metadata tree: every key the patch sets
// gets $lastUpdated (and, for desired, $lastUpdatedVersion); a deleted key
// loses its metadata.
void stamp(json& meta, const json& patch, const std::string& when,
           std::optional<std::int64_t> version) {
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      meta.erase(key);
      continue;
    }
    json& entry = meta[key];
    if (value.is_object()) {
      if (!entry.is_object()) entry = json::object();
      stamp(entry, value, when, version);
    } else {
      entry = json::object();
    }
    entry["$lastUpdated"] = when;
    if (version) entry["$lastUpdatedVersion"] = *version;
  }
}

}  // namespace

json merge_patch_between(const json& from, const json& to) {
  json patch = json::object();
  for (const auto& [key, old] : from.items()) {
    if (!to.contains(key)) patch[key] = nullptr;
  }
  for (const auto& [key, value] : to.items()) {
    const auto old = from.find(key);
    if (old == from.end()) {
      patch[key] = value;
    } else if (old->is_object() && value.is_object()) {
      json inner = merge_patch_between(*old, value);
      if (!inner.empty()) patch[key] = std::move(inner);
    } else if (*old != value) {
      patch[key] = value;
    }
  }
  return patch;
}

namespace {

json with_version(json values, std::int64_t version) {
  values["$version"] = version;
  return values;
}

}  // namespace

std::int64_t Twin::patch(Section section, const json& patch, std::int64_t now_ms) {
  if (!patch.is_object()) throw TwinError(400, "a twin patch must be a JSON object");
  check_keys(patch, "");
  Part& p = part(section);
  json next = p.values;
  next.merge_patch(patch);
  if (depth(next) > limits_.max_depth) {
    throw TwinError(400, fmt::format("properties nest deeper than {} levels", limits_.max_depth));
  }
  if (const auto size = next.dump().size(); size > limits_.max_bytes) {
    throw TwinError(413, fmt::format("{} properties would take {} bytes; the limit is {}",
                                     section == Section::desired ? "desired" : "reported", size,
                                     limits_.max_bytes));
  }
  const std::int64_t version = p.version + 1;
  const std::string when = iso8601(now_ms);
  stamp(p.metadata, patch, when,
        section == Section::desired ? std::optional<std::int64_t>(version) : std::nullopt);
  p.metadata["$lastUpdated"] = when;
  if (section == Section::desired) p.metadata["$lastUpdatedVersion"] = version;
  p.values = std::move(next);
  p.version = version;
  return version;
}

std::int64_t Twin::replace(Section section, const json& values, std::int64_t now_ms) {
  if (!values.is_object()) throw TwinError(400, "twin properties must be a JSON object");
  const json patch_to_apply = merge_patch_between(part(section).values, values);
  if (patch_to_apply.empty()) return part(section).version;
  return patch(section, patch_to_apply, now_ms);
}

void Twin::replace_tags(const json& tags) {
  if (!tags.is_object()) throw TwinError(400, "tags must be a JSON object");
  patch_tags(merge_patch_between(tags_, tags));
}

void Twin::patch_tags(const json& patch) {
  if (!patch.is_object()) throw TwinError(400, "a tags patch must be a JSON object");
  check_keys(patch, "");
  json next = tags_;
  next.merge_patch(patch);
  if (depth(next) > limits_.max_depth) {
    throw TwinError(400, fmt::format("tags nest deeper than {} levels", limits_.max_depth));
  }
  if (next.dump().size() > limits_.max_bytes) {
    throw TwinError(413, fmt::format("tags would exceed {} bytes", limits_.max_bytes));
  }
  tags_ = std::move(next);
}

std::int64_t Twin::version(Section section) const { return part(section).version; }

json Twin::device_view() const {
  return {{"desired", with_version(desired_.values, desired_.version)},
          {"reported", with_version(reported_.values, reported_.version)}};
}

json Twin::service_view(const std::string& device_id) const {
  auto section = [](const Part& p) {
    json out = with_version(p.values, p.version);
    out["$metadata"] = p.metadata;
    return out;
  };
  return {{"deviceId", device_id},
          {"version", desired_.version + reported_.version},
          {"tags", tags_},
          {"properties", {{"desired", section(desired_)}, {"reported", section(reported_)}}}};
}

json Twin::to_json() const {
  auto part_json = [](const Part& p) {
    return json{{"values", p.values}, {"metadata", p.metadata}, {"version", p.version}};
  };
  return {{"desired", part_json(desired_)}, {"reported", part_json(reported_)}, {"tags", tags_}};
}

Twin Twin::from_json(const json& stored, TwinLimits limits) {
  Twin t(limits);
  try {
    auto read = [](const json& j, Part& p) {
      p.values = j.at("values");
      p.metadata = j.at("metadata");
      p.version = j.at("version").get<std::int64_t>();
      if (!p.values.is_object() || !p.metadata.is_object() || p.version < 0) {
        throw TwinError(400, "damaged twin section");
      }
    };
    read(stored.at("desired"), t.desired_);
    read(stored.at("reported"), t.reported_);
    t.tags_ = stored.at("tags");
    if (!t.tags_.is_object()) throw TwinError(400, "damaged twin tags");
  } catch (const json::exception& e) {
    throw TwinError(400, fmt::format("damaged twin document: {}", e.what()));
  }
  return t;
}

}  // namespace allscene::twin
