#include "requests.hpp"

#include <algorithm>

namespace allscene::sdk::detail {

PendingRequest& PendingRequests::add(
    const std::function<std::string(const std::string& rid)>& make_topic, std::string payload,
    Clock::time_point deadline, ResponseHandler handler) {
  const std::uint64_t id = next_id_++;
  PendingRequest r;
  r.rid = std::to_string(id);
  r.topic = make_topic(r.rid);
  r.payload = std::move(payload);
  r.deadline = deadline;
  r.handler = std::move(handler);
  return requests_.emplace(id, std::move(r)).first->second;
}

std::optional<PendingRequest> PendingRequests::take(const std::string& rid) {
  const auto it = std::find_if(requests_.begin(), requests_.end(),
                               [&](const auto& entry) { return entry.second.rid == rid; });
  if (it == requests_.end()) return std::nullopt;
  PendingRequest r = std::move(it->second);
  requests_.erase(it);
  return r;
}

std::vector<PendingRequest> PendingRequests::expire(Clock::time_point now) {
  std::vector<PendingRequest> out;
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.deadline <= now) {
      out.push_back(std::move(it->second));
      it = requests_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<Clock::time_point> PendingRequests::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [id, r] : requests_) {
    if (!earliest || r.deadline < *earliest) earliest = r.deadline;
  }
  return earliest;
}

std::vector<PendingRequest*> PendingRequests::to_write() {
  std::vector<PendingRequest*> out;
  for (auto& [id, r] : requests_) {
    if (!r.written) {
      r.written = true;
      out.push_back(&r);
    }
  }
  return out;
}

void PendingRequests::connection_lost() {
  for (auto& [id, r] : requests_) r.written = false;
}

std::vector<PendingRequest> PendingRequests::take_all() {
  std::vector<PendingRequest> out;
  for (auto& [id, r] : requests_) out.push_back(std::move(r));
  requests_.clear();
  return out;
}

}  // namespace allscene::sdk::detail
