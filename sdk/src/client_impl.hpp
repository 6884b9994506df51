// The device client's engine: the connection state machine on one strand.
// Pure bookkeeping (backoff, offline queue, pending requests, topics) is in
// the headers beside this one; this class does the I/O and the MQTT 3.1.1
// flows with the codec of src/mqtt.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>

#include "allscene/device_client.hpp"
#include "backoff.hpp"
#include "link.hpp"
#include "mqtt/packets.hpp"
#include "offline_queue.hpp"
#include "protocol.hpp"
#include "requests.hpp"

namespace allscene::sdk {
namespace detail {
using TopicHandler = std::function<void(const std::string&, const std::string&)>;
}  // namespace detail

class DeviceClient::Impl : public std::enable_shared_from_this<DeviceClient::Impl> {
 public:
  Impl(boost::asio::any_io_executor executor, ClientOptions options);

  // Checks the options and loads the TLS files; called once, before run().
  std::error_code prepare();
  // The operations below run on the strand (the facade posts them).
  void run();
  void stop();
  void send_event(Event event, std::function<void(std::error_code)> handler);
  void get_twin(std::function<void(std::error_code, Twin)> handler);
  void report(nlohmann::json patch, std::function<void(std::error_code, std::int64_t)> handler);
  void subscribe(std::string filter, detail::TopicHandler handler);
  void publish(std::string topic, std::string payload, int qos, bool retain,
               std::function<void(std::error_code)> handler);
  void call(std::string device_id, std::string method, const nlohmann::json& payload,
            std::chrono::seconds timeout,
            std::function<void(std::error_code, MethodResult)> handler);
  void service(std::string service, std::string operation, const nlohmann::json& request,
               std::chrono::seconds timeout,
               std::function<void(std::error_code, MethodResult)> handler);
  // Immutable after construction: safe from any thread.
  const std::string& device_id() const { return options_.device_id; }

  detail::Executor strand;
  std::atomic<bool> stopped{false};  // set at once by stop(); callbacks check it

  std::function<void(ConnectionStatus, std::error_code)> on_connection;
  std::function<void(const nlohmann::json&, std::int64_t)> on_desired;
  std::function<void(const CloudMessage&)> on_message;
  std::map<std::string, std::function<MethodResult(const MethodRequest&)>> methods;
  // Called on every connection after the subscriptions (the SDK's own
  // layers, e.g. the Ecosystem; the application has on_connection).
  std::vector<std::function<void()>> connected_observers;

 private:
  enum class State { idle, waiting, connecting, subscribing, connected, stopped };
  using Link = detail::Link;

  void attempt();
  void on_tcp_connected(const std::shared_ptr<Link>& link);
  void send_connect(const std::shared_ptr<Link>& link);
  void read(const std::shared_ptr<Link>& link);
  void on_read(const std::shared_ptr<Link>& link, std::size_t n);
  bool handle(std::span<const std::uint8_t> bytes);
  void on_connack(const mqtt::Connack& connack);
  void on_suback(const mqtt::Suback& suback);
  void on_publish(const mqtt::Publish& publish);
  void on_twin_response(const std::string& topic, const std::string& payload);
  void on_method(const std::string& topic, const std::string& payload);
  void on_call_response(const std::optional<detail::ResponseTopic>& parsed,
                        const std::string& payload);
  void route_subscribed(const std::string& topic, const std::string& payload);
  void subscribe_now(const std::string& filter);
  void send(const mqtt::Packet& packet);
  void flush();
  void pump();
  void fail(std::error_code reason);
  void schedule_retry();
  void tick();
  void add_request(const std::function<std::string(const std::string&)>& make_topic,
                   std::string payload, detail::Clock::duration timeout,
                   detail::ResponseHandler handler);
  std::uint16_t next_packet_id();
  std::string password();
  void notify(ConnectionStatus status, std::error_code reason);

  ClientOptions options_;
  std::optional<boost::asio::ssl::context> tls_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer tick_timer_;
  std::shared_ptr<Link> link_;
  State state_ = State::idle;
  detail::Backoff backoff_;
  detail::OfflineQueue queue_;
  detail::PendingRequests requests_;
  std::vector<std::uint8_t> out_;  // encoded packets waiting for the write in progress
  std::uint16_t last_packet_id_ = 0;
  std::uint16_t subscribe_id_ = 0;
  // SUBSCRIBEs sent outside the subscription step (subscribe() while
  // connected, the first call), whose SUBACK nothing waits for.
  std::set<std::uint16_t> live_subscribe_ids_;
  std::vector<std::pair<std::string, detail::TopicHandler>> subscriptions_;
  bool calls_used_ = false;     // "$ecosystem/res/#" is part of the subscription step
  bool services_used_ = false;  // "$services/res/#" too
  detail::Clock::time_point attempt_deadline_{};
  detail::Clock::time_point last_sent_{};
  detail::Clock::time_point last_received_{};
  detail::Clock::time_point connected_at_{};
};

}  // namespace allscene::sdk
