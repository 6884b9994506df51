// Twin requests waiting for their response: request ids, deadlines, and
// which are still to be written (issued while disconnected). No I/O; the
// caller passes the time in.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace allscene::sdk::detail {

using Clock = std::chrono::steady_clock;

struct TwinResponse {
  int status = 0;
  std::string body;
  std::optional<std::int64_t> version;  // "$version" of the response topic
};
using ResponseHandler = std::function<void(std::error_code, const TwinResponse&)>;

struct PendingRequest {
  std::string rid;
  std::string topic;  // where to publish the request (contains the rid)
  std::string payload;
  Clock::time_point deadline;
  ResponseHandler handler;
  bool written = false;  // on the current connection
};

class PendingRequests {
 public:
  // A new request id, unique among this client's requests: the topic is
  // made from it by `make_topic`.
  PendingRequest& add(const std::function<std::string(const std::string& rid)>& make_topic,
                      std::string payload, Clock::time_point deadline, ResponseHandler handler);
  // The request answered by `rid`, removed; nullopt for an unknown (late,
  // timed-out or foreign) rid.
  std::optional<PendingRequest> take(const std::string& rid);
  // Removes and returns the requests whose deadline is at or before `now`.
  std::vector<PendingRequest> expire(Clock::time_point now);
  // The earliest deadline.
  std::optional<Clock::time_point> next_deadline() const;
  // Requests not written on the current connection, oldest first; they are
  // marked written.
  std::vector<PendingRequest*> to_write();
  // The connection dropped: requests written but unanswered go again (the
  // hub answers on the connection that asked).
  void connection_lost();
  std::vector<PendingRequest> take_all();
  std::size_t size() const { return requests_.size(); }

 private:
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, PendingRequest> requests_;  // by issue order
};

}  // namespace allscene::sdk::detail
