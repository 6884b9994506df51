#include "bridge/bridge.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "log/module_log.hpp"

namespace allscene::bridge {

namespace asio = boost::asio;

// The engine's view of the local session. LocalSession calls back on a
// broker loop; everything is handed to the bridge's thread, through a weak
// reference to its io_context so a late completion cannot outlive it.
class Bridge::Local final : public LocalPort {
 public:
  explicit Local(std::weak_ptr<asio::io_context> io) : io_(std::move(io)) {}

  void publish(mqtt::Publish publish, std::function<void(bool)> done) override {
    if (!session || halted) return done(false);
    session->publish(std::move(publish), on_bridge_thread(std::move(done)));
  }
  void acknowledge(std::uint16_t packet_id) override {
    if (session && !halted) session->acknowledge(packet_id);
  }

  template <typename... Args>
  std::function<void(Args...)> on_bridge_thread(std::function<void(Args...)> f) {
    return [io = io_, f = std::move(f)](Args... args) {
      if (const auto ctx = io.lock()) asio::post(*ctx, [f, args...] { f(args...); });
    };
  }

  std::shared_ptr<LocalSession> session;
  bool halted = false;  // the broker is stopping: nothing more goes to its loops

 private:
  std::weak_ptr<asio::io_context> io_;
};

Bridge::Bridge(broker::Broker& broker, BridgeConfig config)
    : broker_(broker),
      config_(std::move(config)),
      io_(std::make_shared<asio::io_context>(1)),
      work_(io_->get_executor()),
      local_(std::make_unique<Local>(io_)),
      upstream_(*io_, config_,
                UpstreamClient::Handlers{
                    [this](const mqtt::Connack& ack) {
                      engine_.on_upstream_up(ack);
                      publish_state(true);
                    },
                    [this](const std::string&) {
                      engine_.on_upstream_down();
                      publish_state(false);
                    },
                    [this](const mqtt::Packet& p) { engine_.on_upstream_packet(p); }}),
      engine_(config_, upstream_, *local_),
      local_restart_(*io_),
      watch_(*io_) {
  module_log().info("bridge {}: to {}://{}:{} (MQTT {}), {} rule(s), client id {}", config_.name,
                    config_.tls ? "mqtts" : "mqtt", config_.host, config_.port,
                    config_.version == mqtt::Version::v5 ? "5" : "3.1.1", config_.rules.size(),
                    effective_client_id(config_));
  publish_state(false);
  asio::post(*io_, [this] {
    start_local();
    upstream_.start();
    watch_broker();
  });
  thread_ = std::thread([this] { io_->run(); });
}

Bridge::~Bridge() {
  // On the bridge's thread, which alone touches these; run() then returns
  // once the cancelled operations have completed.
  asio::post(*io_, [this] { halt(); });
  work_.reset();
  thread_.join();
}

void Bridge::watch_broker() {
  if (broker_.stopping()) return halt();
  watch_.expires_after(std::chrono::milliseconds(50));
  watch_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watch_broker();
  });
}

void Bridge::halt() {
  if (local_->halted) return;
  // The session stays in the store with what it holds; the upstream keeps
  // ours (clean start 0), so both sides resume where they were.
  if (local_->session && !broker_.stopping()) local_->session->stop();
  local_->halted = true;
  upstream_.stop();
  local_restart_.cancel();
  watch_.cancel();
}

void Bridge::start_local() {
  if (local_->halted) return;
  LocalSession::Options options;
  options.client_id = "allscene-bridge-local-" + config_.name;
  options.subscriptions = Engine::local_subscriptions(config_.rules);
  options.receive_maximum = config_.inflight;
  LocalSession::Callbacks callbacks;
  callbacks.message =
      local_->on_bridge_thread(std::function<void(mqtt::Publish)>([this](mqtt::Publish p) {
        engine_.on_local_message(p);
        if (local_->session) local_->session->consumed(LocalSession::size_of(p));
      }));
  callbacks.ended = local_->on_bridge_thread(
      std::function<void(mqtt::ReasonCode)>([this](mqtt::ReasonCode reason) {
        if (broker_.stopping()) return;
        // Taken over or refused: the session (and what it holds) stays in
        // the store; come back to it.
        module_log().warn("bridge {}: local session ended ({}); reopening it in 1 s", config_.name,
                          mqtt::reason_code_name(reason));
        local_restart_.expires_after(std::chrono::seconds(1));
        local_restart_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec && !broker_.stopping()) start_local();
        });
      }));
  local_->session = LocalSession::start(broker_, std::move(options), std::move(callbacks));
}

void Bridge::publish_state(bool connected) {
  if (local_->halted) return;
  auto m = std::make_shared<broker::Message>();
  m->topic = "$SYS/broker/bridge/" + config_.name + "/state";
  m->payload = connected ? "connected" : "disconnected";
  m->retain = true;
  broker_.inject(std::move(m), [](bool) {});
}

}  // namespace allscene::bridge
