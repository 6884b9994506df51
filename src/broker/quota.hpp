// Quotas: how much one device (one connection) and one listener may do per
// second. Exceeding one is refused with its reason code and counted; other
// clients are unaffected. 0 means unlimited throughout.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "broker/message.hpp"

namespace allscene::broker {

struct Quota {
  std::uint32_t listener_connections_per_second = 0;  // CONNACK 0x9F beyond it
  std::uint32_t device_connections_per_second = 0;    // per client id; CONNACK 0x9F
  std::uint32_t messages_per_second = 0;              // PUBLISH per connection; DISCONNECT 0x96
  std::uint32_t bytes_per_second = 0;                 // PUBLISH payload bytes per connection; 0x97
  std::uint32_t max_payload = 0;                      // bytes; DISCONNECT 0x95
  bool limits_publishing() const { return messages_per_second || bytes_per_second || max_payload; }
  bool operator==(const Quota&) const = default;
};

// A token bucket holding up to one second of `rate`, refilled continuously.
class TokenBucket {
 public:
  // True (and the tokens taken) if `amount` fits now.
  bool take(double amount, double rate, TimePoint now) {
    if (!started_) {
      started_ = true;
      tokens_ = rate;
      last_ = now;
    }
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(rate, tokens_ + std::max(0.0, elapsed) * rate);
    last_ = now;
    if (tokens_ < amount) return false;
    tokens_ -= amount;
    return true;
  }

 private:
  double tokens_ = 0;
  TimePoint last_{};
  bool started_ = false;
};

// Connection attempts per listener and per client id. At most kMaxDevices
// client ids are tracked; beyond that the table starts over, which forgets
// no more than one second's worth of each client's attempts.
class ConnectRate {
 public:
  // True if a connect of `client_id` on `listener` is within `quota`.
  bool admit(const std::string& listener, const std::string& client_id, const Quota& quota,
             TimePoint now) {
    if (quota.listener_connections_per_second &&
        !listeners_[listener].take(1, quota.listener_connections_per_second, now)) {
      return false;
    }
    if (quota.device_connections_per_second) {
      if (devices_.size() > kMaxDevices) devices_.clear();  // bounded; forgets slack only
      return devices_[client_id].take(1, quota.device_connections_per_second, now);
    }
    return true;
  }

 private:
  static constexpr std::size_t kMaxDevices = 100'000;
  std::unordered_map<std::string, TokenBucket> listeners_;
  std::unordered_map<std::string, TokenBucket> devices_;
};

}  // namespace allscene::broker
