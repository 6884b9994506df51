#include "registry/access.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

#include "azure/azure.hpp"
#include "azure/topics.hpp"
#include "mqtt/topic.hpp"

namespace allscene::registry {

namespace {

using Level = Authenticator::Level;
using CompiledRule = Authenticator::CompiledRule;
using mqtt::ReasonCode;

// Values of the placeholders for one device.
struct Subject {
  std::string_view user;
  std::string_view device;
  std::string_view client_id;
  bool gateway = false;  // Device::gateway
};

constexpr std::string_view kPlaceholders[] = {"user", "device", "client_id"};

std::string_view placeholder_value(std::string_view name, const Subject& subject) {
  if (name == "user") return subject.user;
  if (name == "device") return subject.device;
  return subject.client_id;
}

// Walks `text` as literal runs and {placeholder}s; `visit(literal, name)`
// gets one of them non-empty per call and returns false to stop. Returns
// false when a brace is unbalanced.
template <typename Visit>
bool walk_template(std::string_view text, Visit&& visit) {
  while (!text.empty()) {
    const std::size_t open = text.find('{');
    const std::size_t close = text.find('}');
    if (close < open) return false;
    if (open == std::string_view::npos) return visit(text, std::string_view{});
    if (open > 0 && !visit(text.substr(0, open), std::string_view{})) return true;
    if (close == std::string_view::npos) return false;
    if (!visit(std::string_view{}, text.substr(open + 1, close - open - 1))) return true;
    text.remove_prefix(close + 1);
  }
  return true;
}

// `level` equals the template with the subject's values substituted; no
// allocation.
bool template_equals(std::string_view tmpl, std::string_view level, const Subject& subject) {
  bool equal = true;
  walk_template(tmpl, [&](std::string_view literal, std::string_view name) {
    const std::string_view part = literal.empty() ? placeholder_value(name, subject) : literal;
    if (!level.starts_with(part)) {
      equal = false;
      return false;
    }
    level.remove_prefix(part.size());
    return true;
  });
  return equal && level.empty();
}

bool is_wildcard(std::string_view level) { return level == "+" || level == "#"; }

// Every topic `filter` matches is matched by `pattern` (a compiled filter
// whose templated levels are literals after substitution).
bool covered(std::string_view filter, const std::vector<Level>& pattern, const Subject& subject) {
  std::string_view rest = filter;
  bool filter_done = false;
  for (std::size_t i = 0;; ++i) {
    if (filter_done) {
      // "a/#" also matches "a" (§4.7.1.2).
      return i == pattern.size() ||
             (i + 1 == pattern.size() && pattern[i].kind == Level::Kind::hash);
    }
    if (i == pattern.size()) return false;
    const std::string_view level = mqtt::pop_level(rest, filter_done);
    // §4.7.2: a wildcard in the first level never matches a '$' topic.
    const bool dollar = i == 0 && level.starts_with('$');
    const Level& p = pattern[i];
    switch (p.kind) {
      case Level::Kind::hash:
        return !dollar;
      case Level::Kind::plus:
        if (level == "#" || dollar) return false;
        break;
      case Level::Kind::literal:
        if (is_wildcard(level) || level != p.text) return false;
        break;
      case Level::Kind::templated:
        if (is_wildcard(level) || !template_equals(p.text, level, subject)) return false;
        break;
    }
  }
}

// The filter (or topic) can reach "users/{X}/..." for some X other than
// `user`.
bool reaches_other_user(std::string_view filter, std::string_view user) {
  bool done = false;
  const std::string_view first = mqtt::pop_level(filter, done);
  if (first == "#") return true;
  if ((first != "users" && first != "+") || done) return false;
  const std::string_view second = mqtt::pop_level(filter, done);
  return is_wildcard(second) || second != user;
}

// "users/{X}/devices", "users/{X}/relay" and "users/{X}/docs" and below are
// the hubs' own: the device cards (a card is the registry's and the twin's
// word, not a device's), group calls relayed between bridged hubs, and the
// documents service's change notices. No device publishes there, except a
// gateway (an edge hub speaking for its devices).
bool hub_kept(std::string_view topic) {
  bool done = false;
  if (mqtt::pop_level(topic, done) != "users" || done) return false;
  mqtt::pop_level(topic, done);
  if (done) return false;
  const std::string_view third = mqtt::pop_level(topic, done);
  return third == "devices" || third == "relay" || third == "docs";
}

// "$hubs/{X}/…": what bridged hubs tell each other about user X's devices
// (mirrored twins). Only X's gateways use it (nullopt: not such a topic).
std::optional<bool> hub_link(std::string_view filter, const Subject& subject) {
  bool done = false;
  if (mqtt::pop_level(filter, done) != "$hubs") return std::nullopt;
  return subject.gateway && !done && mqtt::pop_level(filter, done) == subject.user;
}

// A gateway forwards the device-to-cloud events of the devices its edge hub
// hosts: devices/{X}/messages/events/… for an X of its own owner's, or one
// this hub does not know (registered on the edge only).
bool hosted_device_event(const Snapshot& snapshot, const Device& gateway, std::string_view topic) {
  const auto event = azure::parse_device_event(topic);
  if (!event) return false;
  const Device* device = snapshot.device(event->device_id);
  return device == nullptr || device->owner == gateway.owner;
}

CompiledRule compile(const AccessRule& rule) {
  auto fail = [&](std::string_view why) {
    return std::invalid_argument("access rule \"" + rule.pattern + "\": " + std::string(why));
  };
  if (rule.pattern.starts_with("$share/")) throw fail("a rule cannot be a shared subscription");
  CompiledRule compiled{.levels = {}, .publish = rule.publish, .subscribe = rule.subscribe};
  std::string example;  // placeholders replaced, to validate as a filter
  const bool balanced =
      walk_template(rule.pattern, [&](std::string_view literal, std::string_view name) {
        if (!literal.empty()) {
          example += literal;
          return true;
        }
        if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) ==
            std::end(kPlaceholders)) {
          throw fail("unknown placeholder {" + std::string(name) +
                     "}; use {user}, {device} or {client_id}");
        }
        if (name == "client_id") compiled.uses_client_id = true;
        example += 'x';
        return true;
      });
  if (!balanced) throw fail("unbalanced '{' or '}'");
  if (!mqtt::valid_topic_filter(example)) throw fail("not a valid MQTT topic filter");
  std::string_view rest = rule.pattern;
  bool done = false;
  while (!done) {
    const std::string_view text = mqtt::pop_level(rest, done);
    Level level{.kind = Level::Kind::literal, .text = std::string(text)};
    if (text == "+") {
      level.kind = Level::Kind::plus;
    } else if (text == "#") {
      level.kind = Level::Kind::hash;
    } else if (text.find('{') != std::string_view::npos) {
      level.kind = Level::Kind::templated;
    }
    compiled.levels.push_back(std::move(level));
  }
  return compiled;
}

// What every device may use: its own device topics, its owner's group and
// the Azure device, group-call and cloud-service topics (whose handlers
// enforce the rest).
std::vector<CompiledRule> default_rules() {
  std::vector<CompiledRule> rules;
  for (const char* pattern :
       {"devices/{device}/#", "users/{user}/#", "$iothub/#", "$ecosystem/#", "$services/#"}) {
    rules.push_back(compile(AccessRule{.pattern = pattern, .publish = true, .subscribe = true}));
  }
  return rules;
}

bool allowed(const std::vector<CompiledRule>& rules, bool publish, std::string_view filter,
             const Subject& subject) {
  if (const auto link = hub_link(filter, subject)) return *link;
  if (reaches_other_user(filter, subject.user)) return false;
  if (publish && !subject.gateway && hub_kept(filter)) return false;
  for (const auto& rule : rules) {
    if (publish ? !rule.publish : !rule.subscribe) continue;
    if (rule.uses_client_id && subject.client_id.empty()) continue;
    if (covered(filter, rule.levels, subject)) return true;
  }
  return false;
}

broker::AuthResult refuse(ReasonCode reason) { return {.reason = reason, .identity = {}}; }

broker::AuthResult admit(const Device& device) {
  if (!device.enabled) return refuse(ReasonCode::banned);
  return {.reason = ReasonCode::success, .identity = device.id};
}

bool certificate_names(const Device& device, const broker::PeerInfo& peer) {
  if (peer.cert_thumbprint.empty()) return false;
  if (const auto thumbprint = normalise_thumbprint(peer.cert_thumbprint)) {
    if (std::find(device.thumbprints.begin(), device.thumbprints.end(), *thumbprint) !=
        device.thumbprints.end()) {
      return true;
    }
  }
  return peer.cert_verified && device.ca_signed && peer.cert_common_name == device.id;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

}  // namespace

bool filter_covered_by(std::string_view filter, std::string_view pattern) {
  if (!mqtt::valid_topic_filter(pattern) || mqtt::parse_shared(pattern)) return false;
  if (const auto shared = mqtt::parse_shared(filter)) filter = shared->filter;
  if (filter.empty() || !mqtt::valid_topic_filter(filter)) return false;
  std::vector<Level> levels;
  bool done = false;
  while (!done) {
    const std::string_view text = mqtt::pop_level(pattern, done);
    Level level{.kind = Level::Kind::literal, .text = std::string(text)};
    if (text == "+") level.kind = Level::Kind::plus;
    if (text == "#") level.kind = Level::Kind::hash;
    levels.push_back(std::move(level));
  }
  return covered(filter, levels, Subject{});
}

namespace {
std::uint64_t next_authenticator_uid() {
  static std::atomic<std::uint64_t> last{0};
  return ++last;
}
}  // namespace

Authenticator::Authenticator(const Registry& registry, AuthConfig config, WallClock now)
    : registry_(registry),
      now_(std::move(now)),
      uid_(next_authenticator_uid()),
      policy_(make_policy(std::move(config))) {}

std::shared_ptr<const Authenticator::Policy> Authenticator::make_policy(AuthConfig config) {
  auto policy = std::make_shared<Policy>();
  policy->rules = default_rules();
  for (const auto& rule : config.rules) policy->rules.push_back(compile(rule));
  policy->config = std::move(config);
  return policy;
}

void Authenticator::set_config(AuthConfig config) {
  auto next = make_policy(std::move(config));  // throws before anything changes
  std::lock_guard lock(policy_mutex_);
  policy_ = std::move(next);
  policy_generation_.fetch_add(1, std::memory_order_release);
}

const Authenticator::Policy& Authenticator::policy() {
  struct Cache {
    std::uint64_t uid = 0;
    std::uint64_t generation = 0;
    std::shared_ptr<const Policy> policy;
  };
  thread_local Cache cache;
  const auto generation = policy_generation_.load(std::memory_order_acquire);
  if (cache.uid != uid_ || cache.generation != generation) {
    std::lock_guard lock(policy_mutex_);
    cache.policy = policy_;
    cache.uid = uid_;
    cache.generation = generation;
  }
  return *cache.policy;
}

std::int64_t Authenticator::now_ms() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const Snapshot& Authenticator::current_snapshot() {
  // One cached snapshot per thread, refetched when the registry publishes:
  // the common case is one atomic load of the generation, no shared
  // reference count touched.
  struct Cache {
    std::uint64_t registry_uid = 0;
    std::uint64_t generation = 0;
    std::shared_ptr<const Snapshot> snapshot;
  };
  thread_local Cache cache;
  const std::uint64_t generation = registry_.generation();
  if (!cache.snapshot || cache.registry_uid != registry_.uid() || cache.generation != generation) {
    cache.snapshot = registry_.snapshot();
    cache.registry_uid = registry_.uid();
    cache.generation = generation;
  }
  return *cache.snapshot;
}

bool Authenticator::may_publish(std::string_view identity, std::string_view client_id,
                                std::string_view topic) {
  if (identity.empty()) return true;
  const Snapshot& snapshot = current_snapshot();
  const Device* device = snapshot.device(identity);
  if (device == nullptr || !device->enabled) return false;
  if (topic.empty()) return false;
  if (device->gateway && hosted_device_event(snapshot, *device, topic)) return true;
  return allowed(policy().rules, true, topic,
                 Subject{.user = device->owner,
                         .device = device->id,
                         .client_id = client_id,
                         .gateway = device->gateway});
}

bool Authenticator::may_subscribe(std::string_view identity, std::string_view client_id,
                                  std::string_view filter) {
  if (identity.empty()) return true;
  const Device* device = current_snapshot().device(identity);
  if (device == nullptr || !device->enabled) return false;
  if (!mqtt::valid_topic_filter(filter)) return false;
  if (const auto shared = mqtt::parse_shared(filter)) filter = shared->filter;
  return allowed(policy().rules, false, filter,
                 Subject{.user = device->owner,
                         .device = device->id,
                         .client_id = client_id,
                         .gateway = device->gateway});
}

broker::AuthResult Authenticator::decide(const broker::PeerInfo& peer,
                                         const mqtt::Connect& connect) {
  // We implement no MQTT 5 enhanced authentication method (§4.12).
  if (connect.properties.authentication_method)
    return refuse(ReasonCode::bad_authentication_method);
  const std::shared_ptr<const Snapshot> snapshot = registry_.snapshot();
  const std::string hub_host = policy().config.hub_host;

  if (!connect.username) {
    if (connect.password) return refuse(ReasonCode::bad_user_name_or_password);
    if (!peer.cert_thumbprint.empty()) {
      const Device* device = nullptr;
      if (const auto thumbprint = normalise_thumbprint(peer.cert_thumbprint)) {
        device = snapshot->device_by_thumbprint(*thumbprint);
      }
      if (device == nullptr && peer.cert_verified && !peer.cert_common_name.empty()) {
        const Device* named = snapshot->device(peer.cert_common_name);
        if (named != nullptr && named->ca_signed) device = named;
      }
      if (device == nullptr) return refuse(ReasonCode::bad_user_name_or_password);
      if (connect.client_id != device->id) return refuse(ReasonCode::client_identifier_not_valid);
      return admit(*device);
    }
    if (peer.allow_anonymous && peer.loopback) return {};
    return refuse(ReasonCode::not_authorized);
  }

  std::string device_id;
  if (auto azure_name = azure::parse_device_username(*connect.username)) {
    if (!hub_host.empty() && !iequals(azure_name->host, hub_host)) {
      return refuse(ReasonCode::bad_user_name_or_password);
    }
    if (azure_name->device_id != connect.client_id) {
      return refuse(ReasonCode::client_identifier_not_valid);
    }
    device_id = std::move(azure_name->device_id);
  } else {
    device_id = *connect.username;
    // A device may leave the client id to the server, but may not use
    // another client's id (it would take over that client's session).
    if (!connect.client_id.empty() && connect.client_id != device_id) {
      return refuse(ReasonCode::client_identifier_not_valid);
    }
  }
  const Device* device = snapshot->device(device_id);
  if (device == nullptr) return refuse(ReasonCode::bad_user_name_or_password);

  if (!connect.password) {
    if (certificate_names(*device, peer)) return admit(*device);
    return refuse(ReasonCode::bad_user_name_or_password);
  }
  const std::string& password = *connect.password;
  if (const auto token = azure::parse_sas_token(password)) {
    const bool scoped = hub_host.empty()
                            ? azure::sas_resource_is_device(*token, device->id)
                            : azure::sas_resource_is_device(*token, device->id, hub_host);
    if (!scoped) return refuse(ReasonCode::bad_user_name_or_password);
    const bool primary =
        !device->primary_key.empty() && azure::sas_signed_by(*token, device->primary_key);
    const bool secondary =
        !device->secondary_key.empty() && azure::sas_signed_by(*token, device->secondary_key);
    if (!primary && !secondary) return refuse(ReasonCode::bad_user_name_or_password);
    if (token->expiry <= now_ms() / 1000) return refuse(ReasonCode::not_authorized);
    return admit(*device);
  }
  if (device->password_hash.empty() ||
      crypto_pwhash_str_verify(device->password_hash.c_str(), password.data(), password.size()) !=
          0) {
    return refuse(ReasonCode::bad_user_name_or_password);
  }
  return admit(*device);
}

broker::AuthResult Authenticator::authenticate(const broker::PeerInfo& peer,
                                               const mqtt::Connect& connect) {
  broker::AuthResult result = decide(peer, connect);
  const bool success = !mqtt::is_error(result.reason);
  (success ? accepted_ : refused_).fetch_add(1, std::memory_order_relaxed);
  record(peer, success);
  return result;
}

void Authenticator::record(const broker::PeerInfo& peer, bool success) {
  if (peer.ip.empty()) return;
  const AuthConfig& config = policy().config;
  const std::int64_t now = now_ms();
  const std::int64_t window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.throttle_window).count();
  std::lock_guard lock(throttle_mutex_);
  if (success) {
    failures_.erase(peer.ip);
    return;
  }
  auto it = failures_.find(peer.ip);
  if (it == failures_.end()) {
    if (failures_.size() >= config.throttle_max_ips) {
      std::erase_if(failures_,
                    [&](const auto& entry) { return now - entry.second.last_ms > window_ms; });
    }
    if (failures_.size() >= config.throttle_max_ips && !failures_.empty()) {
      // Still full of live entries: forget the older half.
      std::vector<std::int64_t> times;
      times.reserve(failures_.size());
      for (const auto& entry : failures_) times.push_back(entry.second.last_ms);
      auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
      std::nth_element(times.begin(), middle, times.end());
      const std::int64_t cutoff = *middle;
      std::erase_if(failures_, [&](const auto& entry) { return entry.second.last_ms <= cutoff; });
    }
    if (config.throttle_max_ips == 0) return;
    it = failures_.emplace(peer.ip, Failures{}).first;
  }
  Failures& failures = it->second;
  if (now - failures.last_ms > window_ms) failures.count = 0;
  ++failures.count;
  failures.last_ms = now;
}

std::chrono::milliseconds Authenticator::connect_delay(const broker::PeerInfo& peer) {
  if (peer.ip.empty()) return {};
  const AuthConfig& config = policy().config;
  const std::int64_t now = now_ms();
  const std::int64_t window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.throttle_window).count();
  std::lock_guard lock(throttle_mutex_);
  const auto it = failures_.find(peer.ip);
  if (it == failures_.end()) return {};
  if (now - it->second.last_ms > window_ms) {
    failures_.erase(it);
    return {};
  }
  const int over = it->second.count - config.throttle_after;
  if (over < 0) return {};
  std::chrono::milliseconds delay = config.throttle_first;
  for (int i = 0; i < over && delay < config.throttle_max; ++i) delay *= 2;
  delay = std::min(delay, config.throttle_max);
  throttled_.fetch_add(1, std::memory_order_relaxed);
  return delay;
}

Authenticator::Counters Authenticator::counters() const {
  return {.accepted = accepted_.load(std::memory_order_relaxed),
          .refused = refused_.load(std::memory_order_relaxed),
          .throttled = throttled_.load(std::memory_order_relaxed)};
}

}  // namespace allscene::registry
