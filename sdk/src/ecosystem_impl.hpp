// The Ecosystem's engine. Everything below runs on the DeviceClient's
// strand except the snapshot accessors, which take `mutex` (the only state
// shared with other threads is the group state they copy). Split by
// subject: ecosystem_state.cpp (subscriptions, shared state, status),
// ecosystem_calls.cpp (feature methods both ways), ecosystem_files.cpp
// (file transfer).
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "allscene/ecosystem.hpp"
#include "ecosystem_codec.hpp"
#include "file_transfer.hpp"

namespace allscene::sdk {
namespace detail {

// Completes any of the Ecosystem's handlers with an error (and empty values).
template <class... Args>
void complete(const std::function<void(std::error_code, Args...)>& done, std::error_code ec) {
  if (done) done(ec, Args{}...);
}

}  // namespace detail

class Ecosystem::Impl : public std::enable_shared_from_this<Ecosystem::Impl> {
 public:
  Impl(DeviceClient& client, EcosystemOptions options);

  // Set by the facade before start(); read on the strand afterwards.
  struct Callbacks {
    std::function<void(const DeviceCard&)> device_changed;
    std::function<void(const std::string&)> device_removed;
    std::function<void(const ClipboardItem&)> clipboard;
    std::function<void(const Notification&, bool)> notification;
    std::function<bool(const NotificationActionRequest&)> notification_action;
    std::function<void(const Activity&, bool)> activity;
    std::function<nlohmann::json(const Activity&)> handoff;
    std::function<void(const NowPlaying&)> media;
    std::function<std::optional<NowPlaying>(const MediaControl&)> media_control;
    std::function<void(const RingRequest&)> ring;
    std::function<void(const SharedItem&)> share;
    std::function<bool(const FileOffer&)> file_offer;
    std::function<void(const Transfer&)> transfer;
    std::function<void(std::string_view)> log;
  } callbacks;
  struct Command {
    CommandInfo info;
    std::function<std::string(const std::string&)> run;
  };
  std::map<std::string, Command> commands;  // set before start()

  using Done = std::function<void(std::error_code)>;

  boost::asio::any_io_executor strand() const { return client_.get_executor(); }

  // Checks the options and folders (caller's thread), then sets up on the strand.
  std::error_code start();
  void stop();  // on the strand
  // On every (re)connection after start(): ask again at once for every
  // chunk outstanding (requests or answers of the old connection are lost).
  void follow_connection(const std::shared_ptr<DeviceClient::Impl>& client);
  std::atomic<bool> stopped{false};

  // ---- ecosystem_state.cpp ----
  void report_status(std::optional<Battery> battery, Done done);
  void copy(ClipboardItem item, Done done);
  void copy_file(const std::filesystem::path& path, std::string mime, Done done);
  void post_notification(Notification n, Done done);
  void dismiss_notification(const std::string& origin, const std::string& id, Done done);
  void set_activity(Activity activity, Done done);
  void clear_activity(Done done);
  void publish_media(NowPlaying state, Done done);

  // ---- ecosystem_calls.cpp ----
  void act_on_notification(const std::string& origin, const std::string& id,
                           const std::string& action, const std::string& text, Done done);
  void continue_activity(const std::string& device,
                         std::function<void(std::error_code, Activity)> done);
  void control_media(const std::string& device, const std::string& action,
                     std::optional<int> volume,
                     std::function<void(std::error_code, NowPlaying)> done);
  void ring(const std::string& device, bool stop, Done done);
  void run_command(const std::string& device, const std::string& name,
                   std::function<void(std::error_code, std::string)> done);
  void share(const std::string& device, const std::string& text, const std::string& url, Done done);

  // ---- ecosystem_files.cpp ----
  void send_file(const std::string& device, const std::filesystem::path& path, std::string mime,
                 std::function<void(std::error_code, Transfer)> done);
  void send_file_to_all(const std::filesystem::path& path, std::string mime,
                        std::function<void(std::error_code, std::vector<Transfer>)> done);
  void cancel_transfer(const std::string& id);

  // ---- snapshots (any thread) ----
  mutable std::mutex mutex;
  std::map<std::string, DeviceCard> cards;                                    // GUARDED_BY(mutex)
  std::optional<ClipboardItem> clipboard;                                     // GUARDED_BY(mutex)
  std::map<std::pair<std::string, std::string>, Notification> notifications;  // GUARDED_BY(mutex)
  std::map<std::string, Activity> activities;  // other devices'; GUARDED_BY(mutex)
  std::optional<Activity> own_activity;        // GUARDED_BY(mutex)
  std::map<std::string, NowPlaying> media;     // GUARDED_BY(mutex)
  std::map<std::string, Transfer> transfers;   // "in:{from}/{id}" or "out:{id}"; GUARDED_BY(mutex)
  std::atomic<std::uint64_t> malformed{0};

 private:
  // ecosystem_state.cpp
  void subscribe_all();
  template <class Handler>
  void subscribe(const std::string& filter, Handler handler);
  void on_card(std::string_view device, const std::string& payload);
  void on_clipboard(const std::string& payload);
  void on_notification(std::string_view origin, std::string_view id, const std::string& payload);
  void on_activity(std::string_view device, const std::string& payload);
  void on_media(std::string_view device, const std::string& payload);
  void publish(const std::string& topic, std::string payload, int qos, bool retain, Done done);
  void log(std::string_view line);
  void reject(std::string_view what, std::string_view topic);

  // ecosystem_calls.cpp
  void register_methods();
  template <class Handler>
  void method(const std::string& name, Handler handler);
  void call(const std::string& device, const std::string& method, nlohmann::json payload,
            std::function<void(std::error_code, MethodResult)> done);
  MethodResult on_ring(const std::string& from, const nlohmann::json& payload);
  MethodResult on_media_control(const std::string& from, const nlohmann::json& payload);
  MethodResult on_command(const std::string& from, const nlohmann::json& payload);
  MethodResult on_handoff(const nlohmann::json& payload);
  MethodResult on_notification_action(const std::string& from, const nlohmann::json& payload);
  MethodResult on_share(const std::string& from, const nlohmann::json& payload);
  void take_retained_activity(const std::string& device,
                              std::function<void(std::error_code, Activity)> done);

  // ecosystem_files.cpp
  struct Outgoing {
    std::ifstream file;
    Transfer transfer;
    std::function<void(std::error_code, Transfer)> done;
  };
  MethodResult on_file_offer(const nlohmann::json& payload);
  void resume_saved_transfers();
  void on_inbox(const std::vector<std::string_view>& levels, const std::string& payload);
  void on_chunk_request(const std::string& payload);
  void on_file_status(const std::string& payload);
  void on_file_data(const std::string& transfer, std::string_view offset,
                    const std::string& payload);
  void on_file_error(const std::string& transfer);
  void offer(const std::string& device, const std::filesystem::path& path, std::string mime,
             std::uint64_t size, const std::string& sha256,
             std::function<void(std::error_code, Transfer)> done);
  void pull(detail::Receiving& receiving);
  void pull_or_complete(const std::string& key);
  void complete_incoming(const std::string& key);
  void send_status(const detail::Receiving& receiving, const std::string& state);
  void update_incoming(const detail::Receiving& receiving, TransferState state,
                       std::error_code error = {}, std::filesystem::path path = {});
  void end_incoming(const std::string& key, TransferState state, std::error_code error);
  void finish_outgoing(std::string id, TransferState state, std::error_code error);
  void report_transfer(const std::string& key, const Transfer& transfer);
  void tick();
  void on_connected();

  DeviceClient& client_;
  EcosystemOptions options_;
  std::string self_;
  detail::GroupTopics topics_;
  boost::asio::steady_timer timer_;
  std::map<std::string, std::unique_ptr<detail::Receiving>> incoming_;  // "{from}/{id}"
  std::map<std::string, Outgoing> outgoing_;                            // by transfer id
};

}  // namespace allscene::sdk
