#include "hub/hub.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "api/admin_api.hpp"
#include "api/admin_files.hpp"
#include "api/admin_server.hpp"
#include "bridge/bridge.hpp"
#include "broker/broker.hpp"
#include "broker/local_client.hpp"
#include "discovery/announcer.hpp"
#include "ecosystem/group_service.hpp"
#include "ecosystem/twin_mirror.hpp"
#include "hub/broker_event_feed.hpp"
#include "hub/device_link.hpp"
#include "hub/hub_metrics.hpp"
#include "hub/registry_storage.hpp"
#include "hub/service_hub.hpp"
#include "log/module_log.hpp"
#include "net/server.hpp"
#include "registry/access.hpp"
#include "registry/presence.hpp"
#include "registry/registry.hpp"
#include "services/catalog.hpp"
#include "services/service_topics.hpp"
#include "store/document_store.hpp"
#include "store/sqlite_store.hpp"
#ifdef ALLSCENE_TEST_HOOKS
#include "store/fault_vfs.hpp"
#endif

namespace allscene::hub {
namespace {

// Holds an exclusive lock on DATA_DIR/LOCK so two hubs never share one
// data directory.
class DataDirLock {
 public:
  explicit DataDirLock(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const auto path = dir / "LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(), strerror(errno)));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw std::runtime_error(fmt::format(
          "data directory {} is in use by another allscene hub; stop it or use --data-dir",
          dir.string()));
    }
  }
  ~DataDirLock() { ::close(fd_); }
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  int fd_ = -1;
};

std::filesystem::path store_path(const HubConfig& config) {
  return std::filesystem::path(config.data_dir) / "allscene.db";
}

store::StoreOptions store_options(const HubConfig& config) {
  store::StoreOptions o;
  o.path = store_path(config);
  o.durability = config.durability == "batch" ? store::Durability::batch : store::Durability::fsync;
  o.sync_interval = std::chrono::milliseconds(config.sync_interval_ms);
#ifdef ALLSCENE_TEST_HOOKS
  // Test builds only: faults injected through a SQLite VFS (tests/integration).
  const char* vfs = std::getenv("ALLSCENE_TEST_VFS");
  const char* control = std::getenv("ALLSCENE_TEST_FAULT_FILE");
  if ((vfs && std::string_view(vfs) == "powerloss") || control) {
    auto& fault = store::FaultVfs::install();
    fault.set_power_loss_mode(vfs && std::string_view(vfs) == "powerloss");
    if (control) fault.set_control_file(control);
    o.vfs = fault.name();
    module_log().warn("test hooks: session store through the fault-injecting VFS");
  }
#endif
  return o;
}

// Every half second: applies registry changes made by another process (the
// CLI) — reloads when the documents' version moves and disconnects the
// devices that were disabled or removed — tells `after_changes` (the
// device cards follow the registry), and writes presence changes.
class RegistryWatcher {
 public:
  RegistryWatcher(store::DocumentStore& documents, registry::Registry& registry,
                  registry::Presence& presence, broker::Broker& broker,
                  std::function<void()> after_changes)
      : documents_(documents),
        registry_(registry),
        presence_(presence),
        broker_(broker),
        after_changes_(std::move(after_changes)),
        seen_(documents.version()),
        thread_([this] { run(); }) {}
  ~RegistryWatcher() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  RegistryWatcher(const RegistryWatcher&) = delete;
  RegistryWatcher& operator=(const RegistryWatcher&) = delete;

 private:
  static constexpr auto kInterval = std::chrono::milliseconds(500);

  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, kInterval, [this] { return stopping_; })) {
      apply_changes();
      after_changes_();
      flush_presence();
    }
    flush_presence();
  }

  void apply_changes() {
    try {
      const auto version = documents_.version();
      if (version == seen_) return;
      seen_ = version;
      for (const auto& id : registry_.reload()) {
        module_log().info("device {} was disabled or removed: disconnecting it", id);
        broker_.disconnect_identity(id, mqtt::ReasonCode::administrative_action);
      }
    } catch (const std::exception& e) {
      module_log().warn("registry: cannot apply changes from the store: {}", e.what());
    }
  }

  void flush_presence() {
    try {
      presence_.flush();
    } catch (const std::exception& e) {
      module_log().warn("presence: cannot write to the store (kept for the next try): {}",
                        e.what());
    }
  }

  store::DocumentStore& documents_;
  registry::Registry& registry_;
  registry::Presence& presence_;
  broker::Broker& broker_;
  std::function<void()> after_changes_;  // every tick: cheap when nothing changed
  std::int64_t seen_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The admin endpoint and the files that announce it, alive together.
struct AdminEndpoint {
  AdminEndpoint(api::AdminApi& admin_api, const HubConfig& config)
      : server(admin_api, api::ServerOptions{api::load_or_create_admin_token(config.data_dir),
                                             api::SharedAccessPolicies(
                                                 api::load_or_create_policies(config.data_dir),
                                                 config.auth.hub_host),
                                             config.http_cert_file,
                                             config.http_key_file,
                                             {}}) {
    const auto bind = parse_listen(config.http_bind);
    server.start(bind.address, bind.port);
    const bool v6 = bind.address.find(':') != std::string::npos;
    url = fmt::format("{}://{}{}{}:{}", server.https() ? "https" : "http", v6 ? "[" : "",
                      bind.address, v6 ? "]" : "", server.port());
    announcement.emplace(config.data_dir, url, config.http_cert_file);
  }
  api::AdminServer server;
  std::string url;
  std::optional<api::AdminAnnouncement> announcement;  // removed before the server stops
};

// Starts the admin endpoint unless it is off. A port in use leaves the hub
// running without it (the CLI then works on the data directory, as with a
// stopped hub); anything else is a start-up failure.
void start_admin(std::optional<AdminEndpoint>& endpoint, api::AdminApi& admin_api,
                 const HubConfig& config) {
  api::AdminAnnouncement::remove_stale(config.data_dir);
  if (config.http_bind.empty()) {
    module_log().info("admin API: off");
    return;
  }
  try {
    endpoint.emplace(admin_api, config);
    module_log().info("admin API on {} (token in {})", endpoint->url,
                      (std::filesystem::path(config.data_dir) / "admin.token").string());
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::address_in_use) throw;
    module_log().warn(
        "admin API not started: {} is in use; choose another with --http HOST:PORT or "
        "[http] bind (the CLI works on the data directory meanwhile)",
        config.http_bind);
  }
}

// Opens the store and rebuilds the broker's state from it.
std::unique_ptr<store::SqliteStore> recover(const HubConfig& config, broker::Broker& broker) {
  const auto started = std::chrono::steady_clock::now();
  auto store = std::make_unique<store::SqliteStore>(store_options(config));
  store::LoadReport report;
  auto state = store->load(report);
  broker.set_store(store.get());
  const auto r = broker.restore(std::move(state), broker::Clock::now());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  module_log().info(
      "session store {} (durability {}): recovered {} sessions, {} subscriptions, {} queued "
      "messages and {} retained messages in {} ms",
      store->path().string(), config.durability, r.sessions, r.subscriptions, r.deliveries,
      r.retained, ms);
  if (r.unfinished_routes) {
    module_log().info(
        "{} QoS 2 messages await their publishers' release; their routing is finished "
        "for any session a crash kept them from",
        r.unfinished_routes);
  }
  if (report.expired_sessions || report.expired_messages) {
    module_log().info(
        "removed what expired while the hub was down: {} sessions, {} queued messages",
        report.expired_sessions, report.expired_messages);
  }
  if (report.unreadable) {
    module_log().warn(
        "{} stored records could not be read and were skipped; run `allscene hub "
        "--check-data` to inspect the store",
        report.unreadable);
  }
  return store;
}

// Signals, on a thread of their own: SIGINT and SIGTERM stop the server
// (`stopping` turns true first, for /readyz); SIGHUP calls `reload`.
class Signals {
 public:
  Signals(net::Server& server, std::atomic<bool>& stopping, std::function<void()> reload)
      : signals_(io_, SIGINT, SIGTERM), hangup_(io_, SIGHUP), reload_(std::move(reload)) {
    signals_.async_wait([&server, &stopping](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      stopping = true;
      module_log().info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
      server.stop();  // runs once the loops run, if they do not yet
    });
    wait_hangup();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Signals() {
    io_.stop();
    thread_.join();
  }
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

 private:
  void wait_hangup() {
    hangup_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload_();
      wait_hangup();
    });
  }

  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set hangup_;
  std::function<void()> reload_;
  std::thread thread_;
};

// SIGHUP: the config file's access rules and limits, applied to the
// running hub (reloaded_config() says what changes); a file that does not
// load changes nothing.
void reload(HubConfig& running, registry::Authenticator& access, broker::Broker& broker) {
  if (running.config_file.empty()) {
    module_log().warn(
        "SIGHUP: the hub was started without a config file (-c FILE): nothing to reload");
    return;
  }
  try {
    HubConfig next = reloaded_config(running);
    access.set_config(next.auth);
    if (!broker.update_limits(next.limits)) {
      module_log().warn(
          "SIGHUP: the event loops did not pause in time; limits unchanged, send SIGHUP "
          "again");
    }
    running = std::move(next);
    module_log().info(
        "SIGHUP: reloaded {}: [auth] ({} access rules) and limits; listeners, storage, [http], "
        "bridges, services and limits announced in CONNACK change only with a restart",
        running.config_file, running.auth.rules.size());
  } catch (const std::exception& e) {
    module_log().error("SIGHUP: {} not reloaded, the running configuration stays: {}",
                       running.config_file, e.what());
  }
}

// "$events/devices/{id}/presence": for service clients that follow devices.
twin::DeviceLink::Routed presence_event(const std::string& device_id, bool connected,
                                        std::int64_t at_ms, std::string_view reason) {
  twin::DeviceLink::Routed event;
  event.topic = fmt::format("$events/devices/{}/presence", device_id);
  nlohmann::json payload{{"deviceId", device_id},
                         {"connectionState", connected ? "Connected" : "Disconnected"},
                         {"time", twin::iso8601(at_ms)}};
  if (!connected) payload["reason"] = reason;
  event.payload = payload.dump();
  event.qos = 1;
  event.content_type = "application/json";
  return event;
}

// Who calls a service over MQTT: the registered device a connection is (a
// signed-in identity, or the client id of an anonymous loopback client).
services::ServiceTopics::Identify caller_of(registry::Registry& registry) {
  return [&registry](std::string_view client_id,
                     std::string_view identity) -> std::optional<services::Caller> {
    const std::string id(identity.empty() ? client_id : identity);
    const auto snap = registry.snapshot();
    const registry::Device* device = snap->device(id);
    if (!device || !device->enabled) return std::nullopt;
    return services::Caller{device->owner, device->id, false};
  };
}

// Service answers go to the asking connection only.
services::ServiceTopics::Send answer_through(broker::Broker& broker) {
  return [&broker](const std::string& client_id, std::string topic, std::string payload,
                   mqtt::Properties properties) {
    auto m = std::make_shared<broker::Message>();
    m->topic = std::move(topic);
    m->payload = std::move(payload);
    m->properties = std::move(properties);
    broker.send_to_client(client_id, std::move(m), [client_id](bool delivered) {
      if (!delivered) {
        module_log().debug(
            "services: an answer to {} was not delivered: offline, or not subscribed "
            "to its topic",
            client_id);
      }
    });
  };
}

// `%*` in the JSON pattern: the message as a JSON string, quotes and
// control characters escaped.
class JsonMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const auto text = nlohmann::json(std::string(msg.payload.data(), msg.payload.size()))
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

spdlog::level::level_enum parse_log_level(const std::string& level) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw std::invalid_argument(
        fmt::format("unknown log level '{}': use trace, debug, info, warn, error or off", level));
  }
  return lvl;
}

}  // namespace

int check_data(const HubConfig& config) {
  const auto path = store_path(config);
  const auto problems = store::SqliteStore::check(path);
  for (const auto& p : problems) fmt::print(stderr, "{}: {}\n", path.string(), p);
  if (!problems.empty()) {
    fmt::print(stderr,
               "{} problem(s) found. Restore a backup, or move {} (and its -wal file) away to "
               "start with an empty store.\n",
               problems.size(), path.string());
    return 1;
  }
  fmt::print("{}: ok\n", path.string());
  return 0;
}

void setup_logging(const std::string& level, const std::string& format,
                   const std::map<std::string, std::string>& module_levels) {
  auto lvl = parse_log_level(level);
  auto logger = std::make_shared<spdlog::logger>("allscene",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  spdlog::set_default_logger(logger);
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JsonMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","module":"%n","msg":%*})");
    spdlog::set_formatter(std::move(formatter));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  }
  spdlog::details::registry::log_levels levels;
  for (const auto& [module, module_level] : module_levels)
    levels[module] = parse_log_level(module_level);
  spdlog::details::registry::instance().set_levels(std::move(levels), &lvl);
}

int run(HubConfig config) {
  const auto started = std::chrono::steady_clock::now();
  validate(config);
  DataDirLock lock(config.data_dir);
  const unsigned loops =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  // The registry lives in the store file even with durability none:
  // devices and their credentials are never memory-only.
  store::DocumentStore documents(store_options(config));
  DocumentRegistryStorage registry_storage(documents);
  registry::Registry registry(registry_storage);
  registry.load();
  registry::Authenticator access(registry, config.auth);
  registry::Presence presence(registry_storage);
  presence.reset();  // whatever a crash left "connected" is not
  {
    const auto snap = registry.snapshot();
    module_log().info("registry: {} users, {} devices", snap->users.size(), snap->devices.size());
  }
  // The server (and every connection its loops still hold) must go before
  // the broker they point into: it lives in an optional reset below.
  std::optional<net::Server> server_holder(std::in_place, loops);
  net::Server& server = *server_holder;
  broker::Broker broker(config.limits, server, access, ALLSCENE_VERSION);
  broker.set_observer(&presence);
  BrokerDeviceLink device_link(broker);
  // Declared before the twin service, built after it: the twin thread may
  // still report changes to it until the twin service is gone.
  std::optional<ecosystem::GroupService> group;
  std::optional<ecosystem::TwinMirror> twin_mirror;
  presence.set_listener([&device_link, &group, &twin_mirror](const std::string& id, bool connected,
                                                             std::int64_t at,
                                                             std::string_view reason) {
    device_link.route(presence_event(id, connected, at, reason), nullptr);
    if (group) group->presence_changed(id);
    if (twin_mirror) twin_mirror->device_changed(id);
  });
  twin::TwinService twins(registry, registry_storage, device_link, twin::ServiceOptions{},
                          [&presence](const std::string& id) {
                            const auto state = presence.current(id);
                            return twin::DeviceStatus{state.connected, state.last_seen_ms};
                          });
  broker.add_topic_handler(twins);
  group.emplace(registry, twins, device_link,
                [&presence](const std::string& id) { return presence.current(id); });
  broker.add_topic_handler(*group);
  twins.set_reported_listener([&group](const std::string& id, const nlohmann::json& patch) {
    group->reported_changed(id, patch);
  });
  twin_mirror.emplace(registry, twins, device_link);
  twins.set_remote_twins(&*twin_mirror);
  twins.set_change_listener(
      [&twin_mirror](const std::string& id) { twin_mirror->device_changed(id); });
  // Cloud services: $services/… over MQTT, /api/v1/services over REST
  // (docs/services.md). The host goes first at shutdown (it answers what
  // is pending through the topic handler, and its services may still ask
  // the hub), so the other two are declared before it.
  std::optional<services::ServiceTopics> service_topics;
  std::optional<ServiceHub> service_hub;
  services::ServiceHost service_host(config.services);
  service_hub.emplace(
      registry, [&presence](const std::string& id) { return presence.current(id); }, twins,
      device_link, service_host);
  services::add_built_services(service_host, std::filesystem::path(config.data_dir) / "services",
                               *service_hub);
  service_topics.emplace(service_host, caller_of(registry), answer_through(broker));
  broker.add_topic_handler(*service_topics);
  broker.set_receipt_handler(
      [&twins](const std::string& client_id, const broker::MessagePtr& m, bool delivered) {
        twins.on_receipt(client_id, m->topic, delivered);
      });
  std::unique_ptr<store::SqliteStore> store;
  if (config.durability != "none") store = recover(config, broker);
#ifdef ALLSCENE_TEST_HOOKS
  if (std::getenv("ALLSCENE_TEST_EARLY_ACK")) {
    module_log().warn("test hooks: acknowledging before the store commits (loses data on a crash)");
    broker.set_unsafe_early_ack(true);
  }
#endif
  if (store) store->start();
  server.set_broker(broker);
  group->sync_registry();  // after recovery: the cards replace what was retained
  // Other hubs' cards and relayed calls (an edge and its cloud), in-process.
  const auto group_feed = broker::LocalClient::start(
      broker, "allscene-ecosystem",
      {std::begin(ecosystem::GroupService::kGroupFilters),
       std::end(ecosystem::GroupService::kGroupFilters)},
      [&group](const mqtt::Publish& p) { group->on_group_message(p.topic, p.payload); },
      [](mqtt::ReasonCode reason) {
        if (reason == mqtt::ReasonCode::server_shutting_down) return;
        module_log().error("ecosystem: the group feed ended ({}); calls to bridged hubs stop",
                           mqtt::reason_code_name(reason));
      });
  // Twins of devices that bridged hubs host, and patches for ours.
  const auto twin_feed = broker::LocalClient::start(
      broker, "allscene-twin-mirror", {std::string(ecosystem::kTwinMirrorFilter)},
      [&twin_mirror](const mqtt::Publish& p) { twin_mirror->on_message(p.topic, p.payload); },
      [](mqtt::ReasonCode reason) {
        if (reason == mqtt::ReasonCode::server_shutting_down) return;
        module_log().error("twins: the mirror feed ended ({}); twins of bridged hubs stop updating",
                           mqtt::reason_code_name(reason));
      });
  // Before the hub announces itself (admin.json, listeners): a SIGTERM
  // from whoever saw it start must stop it cleanly.
  std::atomic<bool> listening{false}, stopping{false};
  // The signal thread's own copy: what a reload starts from.
  std::optional<Signals> signals(
      std::in_place, server, stopping,
      [running = config, &access, &broker]() mutable { reload(running, access, broker); });
  // Before the MQTT listeners: once a client can connect, the CLI finds
  // the endpoint.
  const MetricSources metric_sources{broker,   store.get(), service_host,
                                     registry, presence,    started};
  api::AdminApi admin_api(
      registry, registry_storage,
      [&broker](const std::string& id) {
        module_log().info("device {} was disabled or removed: disconnecting it", id);
        broker.disconnect_identity(id, mqtt::ReasonCode::administrative_action);
      },
      api::ServiceSettings{&twins, config.http_device_owner,
                           [&broker](std::vector<std::string> filters) {
                             return std::make_shared<BrokerEventFeed>(broker, std::move(filters));
                           },
                           &service_host, [&metric_sources] { return hub_metrics(metric_sources); },
                           [&listening, &stopping, &store]() -> std::string {
                             if (stopping) return "shutting down";
                             if (!listening) return "starting: the MQTT listeners are not open yet";
                             if (store && !store->healthy()) {
                               return "the session store cannot write (see the log); QoS 1/2 "
                                      "publishes are refused";
                             }
                             return {};
                           },
                           config.http_console_dir});
  std::optional<AdminEndpoint> admin;
  start_admin(admin, admin_api, config);
  // [discovery] (docs/discovery.md): the hub on the local network over
  // mDNS/DNS-SD, from the announcer's own thread; withdrawn (goodbye
  // packets) as soon as the loops stop. Failing to announce is not fatal.
  std::vector<discovery::Listener> bound;
  for (const auto& l : config.listeners)
    bound.push_back({l.address, server.listen(l), l.transport});
  if (admin) {
    bound.push_back({parse_listen(config.http_bind).address, admin->server.port(),
                     admin->server.https() ? "https" : "http"});
  }
  std::unique_ptr<discovery::Announcer> announcer;
  if (auto record = discovery::hub_record(
          discovery::parse_announce_mode(config.discovery_announce).value(),
          config.discovery_instance, discovery::local_host_name(), bound, config.auth.hub_host)) {
    std::error_code ec;
    announcer = discovery::Announcer::start(
        std::move(*record),
        [](discovery::Announcer::Event event, const std::string& detail) {
          using E = discovery::Announcer::Event;
          if (event == E::established) module_log().info("discovery: announced as '{}'", detail);
          if (event == E::renamed)
            module_log().info("discovery: name taken, now trying '{}'", detail);
          if (event == E::failed) module_log().warn("discovery: announcement stopped: {}", detail);
        },
        ec);
    if (ec)
      module_log().warn("discovery: not announced: cannot use multicast DNS: {}", ec.message());
  } else if (config.discovery_announce != "off") {
    module_log().info(
        "discovery: not announced: no {}MQTT listener over TCP or TLS (docs/discovery.md)",
        config.discovery_announce == "auto" ? "non-loopback " : "");
  }

  std::optional<RegistryWatcher> watcher(std::in_place, documents, registry, presence, broker,
                                         [&group, &twin_mirror] {
                                           group->sync_registry();
                                           twin_mirror->sync_registry();
                                         });

  // Bridges to other brokers ([[bridge]], --upstream; docs/operations.md).
  // Each halts by itself once the broker stops, so it may outlive the loops.
  std::vector<std::unique_ptr<bridge::Bridge>> bridges;
  for (const auto& b : config.bridges) {
    bridges.push_back(std::make_unique<bridge::Bridge>(broker, b));
  }

  listening = true;
  module_log().info("allscene hub started: {} event loop(s), data in {}", loops, config.data_dir);
  server.run();
  group_feed->stop();
  twin_feed->stop();
  announcer.reset();
  admin.reset();    // its requests reach the broker and the loops
  watcher.reset();  // it posts to the loops, which are about to go
  signals.reset();
  if (store) store->stop();  // commits what the loops handed it
  server_holder.reset();
  try {
    presence.flush();  // the connections that just closed
  } catch (const std::exception& e) {
    module_log().warn("presence: last changes not written: {}", e.what());
  }
  const auto t = broker.totals();
  module_log().info("hub stopped: {} connections served, {} messages in, {} out",
                    t.connections_total, t.messages_received, t.messages_sent);
  if (t.dropped())
    module_log().info("{} messages were dropped (see $SYS/broker/messages/dropped/#)", t.dropped());
  return 0;
}

}  // namespace allscene::hub
