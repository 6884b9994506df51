// The bounded queue of device-to-cloud events (and other QoS 1 publishes): waiting to be written,
// and written but not yet acknowledged (PUBACK). No I/O. The bound counts both; see "Offline queue"
// in allscene/device_client.hpp for the policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "allscene/device_client.hpp"

namespace allscene::sdk::detail {

struct QueuedEvent {
  std::string topic;
  std::string payload;
  std::function<void(std::error_code)> handler;
  bool retain = false;
  std::uint16_t packet_id = 0;  // kept across connections once assigned (resent with DUP)
  bool written = false;         // written to the current connection
};

class OfflineQueue {
 public:
  OfflineQueue(std::size_t limit, std::size_t byte_limit, QueueFull policy)
      : limit_(limit), byte_limit_(byte_limit), policy_(policy) {}

  // Adds `event` at the back. Returns the events that leave the queue for
  // the bound (their handlers are the caller's to complete with
  // Errc::queue_full): the oldest unwritten ones (drop_oldest), or `event`
  // itself (reject_new, or when no room can be made).
  std::vector<QueuedEvent> push(QueuedEvent event);

  // The oldest event not written to the current connection, if fewer than
  // `max_in_flight` are written, now marked written; nullptr otherwise.
  // The caller assigns its packet id if it has none.
  QueuedEvent* next_to_write(std::size_t max_in_flight);

  // Removes the written event with `packet_id` (its PUBACK came).
  std::optional<QueuedEvent> acknowledge(std::uint16_t packet_id);

  // The connection dropped: every event is to be written again, in order.
  void connection_lost();

  // Empties the queue (shut-down); returns every event.
  std::vector<QueuedEvent> take_all();

  bool uses_packet_id(std::uint16_t packet_id) const;
  std::size_t size() const { return events_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t written() const { return written_; }

 private:
  std::deque<QueuedEvent> events_;
  std::size_t limit_;
  std::size_t byte_limit_;
  QueueFull policy_;
  std::size_t bytes_ = 0;
  std::size_t written_ = 0;
};

}  // namespace allscene::sdk::detail
