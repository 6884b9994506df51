// Authentication of CONNECT and authorisation of PUBLISH/SUBSCRIBE against
// the registry (broker::AccessControl).
//
// Thread safety: every member function may be called from any event loop.
// connect_delay/authenticate take one mutex (failure throttling);
// may_publish/may_subscribe take none: they read a per-thread cached
// snapshot, refetched only when the registry's generation changes, and do
// not allocate when the answer is yes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/interfaces.hpp"
#include "registry/registry.hpp"

namespace allscene::registry {

// A topic filter with placeholders {user} {device} {client_id} that grants
// more than the defaults. A substituted value is always a literal level,
// never a wildcard, whatever characters it holds.
struct AccessRule {
  std::string pattern{};
  bool publish = true;
  bool subscribe = true;
};

struct AuthConfig {
  std::vector<AccessRule> rules{};
  // Failures from one IP before connects from it are slowed down. Failures
  // count as one run while each comes within throttle_window of the one
  // before; the run ends throttle_window after its last failure.
  int throttle_after = 5;
  std::chrono::seconds throttle_window{60};
  // The delay at throttle_after failures, doubling per further failure.
  std::chrono::milliseconds throttle_first{1000}, throttle_max{30000};
  std::size_t throttle_max_ips = 100'000;  // IPs remembered at most
  std::string hub_host{};  // non-empty: SAS tokens and Azure usernames must name this host
};

// True when every topic that `filter` can match is matched by `pattern`
// (both MQTT topic filters, '+' and '#' as in §4.7; a top-level wildcard
// never matches a topic starting with '$').
bool filter_covered_by(std::string_view filter, std::string_view pattern);

class Authenticator final : public broker::AccessControl {
 public:
  using WallClock = std::function<std::int64_t()>;  // unix ms; tests inject

  // Throws std::invalid_argument when a rule's pattern is not a valid topic
  // filter or names an unknown placeholder (start-up configuration).
  Authenticator(const Registry& registry, AuthConfig config, WallClock now = {});

  // Replaces the rules, throttling and hub host (SIGHUP reload): checks that
  // come after see the new policy; a check under way finishes with the old.
  // Throws std::invalid_argument, changing nothing, for a bad rule. Any thread.
  void set_config(AuthConfig config);

  std::chrono::milliseconds connect_delay(const broker::PeerInfo& peer) override;
  // Reason codes: bad_authentication_method (any MQTT 5 authentication
  // method), client_identifier_not_valid (client id is not the device id),
  // bad_user_name_or_password (unknown device, wrong secret, token for
  // another resource), not_authorized (expired token, anonymous where not
  // allowed), banned (disabled device). A successful device's identity is
  // its id; an anonymous loopback client's identity is empty.
  broker::AuthResult authenticate(const broker::PeerInfo& peer,
                                  const mqtt::Connect& connect) override;
  bool may_publish(std::string_view identity, std::string_view client_id,
                   std::string_view topic) override;
  bool may_subscribe(std::string_view identity, std::string_view client_id,
                     std::string_view filter) override;

  struct Counters {
    std::uint64_t accepted, refused, throttled;
  };
  Counters counters() const;

  // A compiled AccessRule (public for the implementation's helpers).
  struct Level {
    enum class Kind { literal, plus, hash, templated } kind = Kind::literal;
    std::string text;  // literal text, or the template with placeholders
  };
  struct CompiledRule {
    std::vector<Level> levels;
    bool publish = true;
    bool subscribe = true;
    bool uses_client_id = false;
  };

 private:
  struct Failures {
    int count = 0;
    std::int64_t last_ms = 0;
  };
  // What set_config() replaces, built once per change.
  struct Policy {
    AuthConfig config;
    std::vector<CompiledRule> rules;
  };
  static std::shared_ptr<const Policy> make_policy(AuthConfig config);
  const Snapshot& current_snapshot();
  // The policy this thread sees: cached per thread, refetched when it
  // changes, so a check touches no shared reference count.
  const Policy& policy();
  broker::AuthResult decide(const broker::PeerInfo& peer, const mqtt::Connect& connect);
  void record(const broker::PeerInfo& peer, bool success);
  std::int64_t now_ms() const;

  const Registry& registry_;
  WallClock now_;
  const std::uint64_t uid_;  // tells this instance's cache entries from others'
  mutable std::mutex policy_mutex_;
  std::shared_ptr<const Policy> policy_;  // guarded by policy_mutex_
  std::atomic<std::uint64_t> policy_generation_{1};

  std::mutex throttle_mutex_;
  std::unordered_map<std::string, Failures> failures_;  // guarded by throttle_mutex_

  std::atomic<std::uint64_t> accepted_{0}, refused_{0}, throttled_{0};
};

}  // namespace allscene::registry
