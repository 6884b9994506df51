// The event stream (GET /api/v1/events): hub messages streamed to an HTTP
// client as server-sent events, for back ends that do not speak MQTT. The
// hub supplies the feed (a subscription inside the broker); the server
// writes what it pushes.
//
// Each event is one line of JSON:
//   event: message
//   data: {"topic": "...", "payload": <JSON, or the text as a string>,
//          "deviceId": "...", "properties": {...}}   (the last two for
//          device-to-cloud events: the topic's property bag, decoded)
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace allscene::api {

class EventFeed {
 public:
  virtual ~EventFeed() = default;
  using Push = std::function<void(const std::string& topic, const std::string& payload)>;
  using End = std::function<void(const std::string& why)>;
  // Starts the feed: `push` for each message, `end` once if the feed ends
  // by itself (the hub stops). Both may be called on any thread, never
  // after stop() returned.
  virtual void start(Push push, End end) = 0;
  virtual void stop() = 0;
  // Bytes pushed and not yet written to the client: a feed may drop
  // messages while it is high (a slow reader must not hold up the hub).
  virtual void set_backlog(std::size_t bytes) = 0;
};

// Opens a feed of the messages matching `filters` (valid MQTT topic
// filters).
using FeedOpener = std::function<std::shared_ptr<EventFeed>(std::vector<std::string> filters)>;

// One server-sent event for a message.
std::string format_event(const std::string& topic, const std::string& payload);

}  // namespace allscene::api
