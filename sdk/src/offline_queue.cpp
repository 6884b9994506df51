#include "offline_queue.hpp"

#include <algorithm>

namespace allscene::sdk::detail {

std::vector<QueuedEvent> OfflineQueue::push(QueuedEvent event) {
  std::vector<QueuedEvent> dropped;
  const std::size_t size = event.payload.size();
  auto fits = [&] { return events_.size() < limit_ && bytes_ + size <= byte_limit_; };
  if (size > byte_limit_ || limit_ == 0) {
    dropped.push_back(std::move(event));
    return dropped;
  }
  if (!fits() && policy_ == QueueFull::drop_oldest) {
    // Only unwritten events can go: one on the wire may be acknowledged yet.
    for (auto it = events_.begin(); it != events_.end() && !fits();) {
      if (it->written) {
        ++it;
        continue;
      }
      bytes_ -= it->payload.size();
      dropped.push_back(std::move(*it));
      it = events_.erase(it);
    }
  }
  if (!fits()) {
    dropped.push_back(std::move(event));
    return dropped;
  }
  bytes_ += size;
  events_.push_back(std::move(event));
  return dropped;
}

QueuedEvent* OfflineQueue::next_to_write(std::size_t max_in_flight) {
  if (written_ >= max_in_flight) return nullptr;
  for (auto& e : events_) {
    if (!e.written) {
      e.written = true;
      ++written_;
      return &e;
    }
  }
  return nullptr;
}

std::optional<QueuedEvent> OfflineQueue::acknowledge(std::uint16_t packet_id) {
  if (packet_id == 0) return std::nullopt;
  const auto it = std::find_if(events_.begin(), events_.end(), [&](const QueuedEvent& e) {
    return e.written && e.packet_id == packet_id;
  });
  if (it == events_.end()) return std::nullopt;
  QueuedEvent e = std::move(*it);
  events_.erase(it);
  bytes_ -= e.payload.size();
  --written_;
  return e;
}

void OfflineQueue::connection_lost() {
  for (auto& e : events_) e.written = false;
  written_ = 0;
}

std::vector<QueuedEvent> OfflineQueue::take_all() {
  std::vector<QueuedEvent> all(std::make_move_iterator(events_.begin()),
                               std::make_move_iterator(events_.end()));
  events_.clear();
  bytes_ = 0;
  written_ = 0;
  return all;
}

bool OfflineQueue::uses_packet_id(std::uint16_t packet_id) const {
  return std::any_of(events_.begin(), events_.end(),
                     [&](const QueuedEvent& e) { return e.packet_id == packet_id; });
}

}  // namespace allscene::sdk::detail
