// The device side of the cross-device ecosystem (docs/protocol.md, "Cross-
// device ecosystem"): one person's devices see each other's cards, share a
// clipboard, notifications, activities (handoff) and media state, call each
// other's feature methods (ring, media.control, command.run, handoff.take,
// notification.action, share, file.offer) and move files of any size
// through their inboxes.
//
// An Ecosystem is built on a DeviceClient and the owner's user id. It adds
// subscriptions and method handlers to the client; the client keeps the
// connection (and re-subscribes after every reconnection).
//
// Threading. The Ecosystem's state lives on the client's strand. Every
// public member function may be called from any thread; operations post
// to the strand and return at once. Every handler (completion or callback)
// runs on that strand, never inside the call that passed it. Callbacks
// (the on_* functions) must be set before start() and are not called after
// stop(). The state accessors (devices(), clipboard(), …) return a copy
// and are safe to call from any thread, including from a handler.
//
// Errors. Completions report std::error_code: sdk::Errc for what the client
// or the hub says (Errc::timeout, Errc::not_found for a device that is
// offline or not in the group, error_from_status() of the callee's status,
// Errc::shut_down), and EcosystemErrc below for the ecosystem's own
// reasons. Calls to other devices (ring, run_command, …) are sent again
// after a reconnection when no answer came (at least once).
//
// Malformed input. A message on any ecosystem topic that is not what the
// protocol says (bad JSON, wrong types, unknown transfer) is ignored and
// counted (malformed_messages()) and logged through on_log; it never stops
// the Ecosystem.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "allscene/device_client.hpp"
#include "allscene/error.hpp"

namespace allscene::sdk {

enum class EcosystemErrc {
  opted_out = 1,     // clipboard sharing is off on this device
  too_large,         // a clipboard item over 512 KiB of data
  declined,          // the receiver declined the file (403 "declined")
  hash_mismatch,     // the received file's SHA-256 is not the offered one
  file_error,        // a local file could not be read or written
  transfer_failed,   // the other side reported the transfer failed or unknown
  cancelled,         // cancel_transfer() or stop()
  no_activity,       // handoff: the device has no activity to continue
  invalid_argument,  // e.g. an empty device id or a name with '/', '+', '#'
};

const std::error_category& ecosystem_category();
inline std::error_code make_error_code(EcosystemErrc e) {
  return {static_cast<int>(e), ecosystem_category()};
}

struct Battery {
  int level = 0;  // percent, 0..100
  bool charging = false;
};

// A remote command a device offers (`command.run`): shown in its card.
struct CommandInfo {
  std::string label;
  std::vector<std::string> allow;  // device ids or classes that may run it
};

// A device of the group, from its retained card users/{u}/devices/{id}.
struct DeviceCard {
  std::string device_id;
  std::string name;
  std::string device_class;  // "class"
  bool online = false;
  std::string last_seen;  // ISO 8601, as the hub wrote it
  std::optional<Battery> battery;
  std::vector<std::string> capabilities;
  std::map<std::string, CommandInfo> commands;
};

// The shared clipboard's current item.
struct ClipboardItem {
  std::string from;  // device id
  std::string time;
  std::string mime;  // "text/plain" for text
  std::string text;  // text items
  std::string name;  // image and file items: the file name (may be empty for images)
  std::string data;  // image and file items: the bytes (decoded)
  bool is_text() const { return data.empty() && name.empty() && mime == "text/plain"; }
};

struct NotificationAction {
  std::string id;
  std::string label;
};
struct Notification {
  std::string origin;  // the device that posted it
  std::string id;      // unique on the origin
  std::string app;
  std::string title;
  std::string body;
  std::string time;
  std::vector<NotificationAction> actions;
  bool reply = false;  // whether it takes a text reply
};
// A `notification.action` call, handled by the notification's origin.
struct NotificationActionRequest {
  std::string from;    // the device the user acted on
  std::string id;      // the notification
  std::string action;  // "reply" or an action id
  std::string text;    // the reply
};

// A device's current activity (task handoff).
struct Activity {
  std::string device_id;  // where it runs (set by the Ecosystem)
  std::string app;
  std::string title;
  std::string uri;
  nlohmann::json state = nlohmann::json::object();
  std::string time;  // set by the Ecosystem when empty
};

struct NowPlaying {
  std::string device_id;          // the player (set by the Ecosystem)
  std::string state = "stopped";  // "playing", "paused", "stopped"
  std::string title;
  std::string artist;
  std::string album;
  std::int64_t position_ms = 0;
  std::int64_t duration_ms = 0;
  int volume = 0;  // 0..100
};
// A `media.control` call, handled by the player.
struct MediaControl {
  std::string from;
  std::string action;         // play, pause, toggle, next, previous, volume
  std::optional<int> volume;  // with "volume"
};

// A `share` call: text or a URL sent to this device.
struct SharedItem {
  std::string from;
  std::string text;
  std::string url;
};

// A `ring` call. `stop` is true for {"stop":true}: the caller asks the
// ringing to end (the protocol's "rings until stop").
struct RingRequest {
  std::string from;
  bool stop = false;
};

// A `file.offer` call.
struct FileOffer {
  std::string transfer;
  std::string from;
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
  std::string mime;
};

enum class TransferDirection { sending, receiving };
enum class TransferState { offered, active, complete, failed, declined, cancelled };

struct Transfer {
  std::string id;
  TransferDirection direction = TransferDirection::sending;
  std::string peer;  // the other device
  std::string name;
  std::string mime;
  std::uint64_t size = 0;
  std::string sha256;
  std::uint64_t bytes = 0;  // received (receiver) or served (sender) so far
  TransferState state = TransferState::offered;
  std::filesystem::path path;  // sender: the source; receiver: the final file once complete
  std::error_code error;       // failed, declined, cancelled: why
};

struct EcosystemOptions {
  std::string user_id;  // the owner: topics under users/{user_id}/
  // Received files go here; the .part and state files of unfinished
  // transfers are kept in state_dir (default: downloads_dir), so a
  // restarted process resumes them.
  std::filesystem::path downloads_dir = ".";
  std::filesystem::path state_dir;
  // Clipboard opt-out: the device neither publishes nor subscribes.
  bool share_clipboard = true;
  // What this device offers; reported in its card by report_status().
  std::vector<std::string> capabilities = {"clipboard", "files", "notifications", "handoff",
                                           "media",     "find",  "commands"};
  // File transfer flow control (receiver side): chunk size (clamped to
  // 1 KiB..256 KiB), requests outstanding, and when to ask again.
  std::size_t chunk_size = 64 * 1024;
  std::size_t window = 8;
  std::chrono::milliseconds chunk_timeout{5000};
  // The hub's time limit for calls to other devices ($timeout); the
  // local one is 2 s longer.
  std::chrono::seconds call_timeout{10};
};

// Who a device is, as the hub knows it: its owner is EcosystemOptions::user_id.
struct Identity {
  std::string device_id;
  std::string owner;
  std::string name;
  std::string device_class;
};
// Handler: void(std::error_code, Identity). Asks the hub
// ("$ecosystem/call/$hub/whoami"), on the client's strand; the client must
// be started (the call waits for the connection). Errors as async_call;
// Errc::malformed_response for an answer without deviceId and owner.
void async_whoami(DeviceClient& client, std::function<void(std::error_code, Identity)> handler);

class Ecosystem {
 public:
  // `client` must outlive the Ecosystem. Nothing happens before start().
  Ecosystem(DeviceClient& client, EcosystemOptions options);
  ~Ecosystem();  // stop()
  Ecosystem(const Ecosystem&) = delete;
  Ecosystem& operator=(const Ecosystem&) = delete;

  // ---- Callbacks (set before start(); all run on the client's strand) ----

  // void(const DeviceCard&): a card was added or changed (other devices and
  // this one). void(const std::string& device_id): a device was removed.
  void on_device_changed(std::function<void(const DeviceCard&)> handler);
  void on_device_removed(std::function<void(const std::string&)> handler);
  // void(const ClipboardItem&): another device copied something.
  void on_clipboard(std::function<void(const ClipboardItem&)> handler);
  // void(const Notification&, bool dismissed): one was posted (dismissed
  // false) or dismissed (true; only origin and id are set).
  void on_notification(std::function<void(const Notification&, bool)> handler);
  // bool(const NotificationActionRequest&): the user acted on one of this
  // device's notifications elsewhere. Return false for an unknown
  // notification (answered 404).
  void on_notification_action(std::function<bool(const NotificationActionRequest&)> handler);
  // void(const Activity&, bool ended): another device's activity changed.
  void on_activity(std::function<void(const Activity&, bool)> handler);
  // nlohmann::json(const Activity& current): another device takes over
  // this device's activity (handoff.take); return its latest state (put in
  // the answer). The activity is then ended here (its retained message
  // cleared). Without a handler the stored state is sent.
  void on_handoff(std::function<nlohmann::json(const Activity&)> handler);
  // void(const NowPlaying&): another device's now-playing changed.
  void on_media(std::function<void(const NowPlaying&)> handler);
  // std::optional<NowPlaying>(const MediaControl&): control this device's
  // player; return the new state (published and answered 200), or nullopt
  // for an action it cannot do (answered 400). Without a handler: 404.
  void on_media_control(std::function<std::optional<NowPlaying>(const MediaControl&)> handler);
  // void(const RingRequest&): ring (until stop or 30 s: the handler's job).
  void on_ring(std::function<void(const RingRequest&)> handler);
  // void(const SharedItem&): text or a URL shared to this device.
  void on_share(std::function<void(const SharedItem&)> handler);
  // bool(const FileOffer&): accept (true) or decline a file.
  void on_file_offer(std::function<bool(const FileOffer&)> handler);
  // void(const Transfer&): progress (bytes of size) and every state change
  // of a transfer, both sides.
  void on_transfer(std::function<void(const Transfer&)> handler);
  // void(std::string_view line): diagnostics (malformed messages, file errors).
  void on_log(std::function<void(std::string_view)> handler);

  // A named remote command (command.run): `run` gets the caller's device id
  // and returns the output. The hub enforces `allow`. Commands go into this
  // device's card with the next report_status(). Set before start().
  void add_command(std::string name, CommandInfo info,
                   std::function<std::string(const std::string& from)> run);

  // Subscribes (group cards, clipboard unless opted out, notifications,
  // activities, media, own inbox), registers the feature methods, and
  // resumes the unfinished incoming transfers found in state_dir. Returns
  // EcosystemErrc::invalid_argument for an empty or invalid user id, or
  // file_error when the download or state folder cannot be created.
  std::error_code start();
  // Cancels active transfers (keeping received parts for a later resume);
  // pending completions end with Errc::shut_down. Idempotent.
  void stop();

  // ---- State snapshots (any thread) ----
  std::vector<DeviceCard> devices() const;          // by device id, self included
  std::optional<ClipboardItem> clipboard() const;   // the current item
  std::vector<Notification> notifications() const;  // by origin, id
  std::vector<Activity> activities() const;         // other devices' activities
  std::optional<Activity> activity() const;         // this device's
  std::vector<NowPlaying> media() const;            // by device id, self included
  std::vector<Transfer> transfers() const;          // this process's, both directions
  std::uint64_t malformed_messages() const;         // ignored messages so far

  // ---- Operations: handlers run on the client's strand ----

  // void(std::error_code): the reported property `ecosystem` with battery,
  // capabilities and commands has been stored (its twin $version).
  void report_status(std::optional<Battery> battery, std::function<void(std::error_code)> handler);

  // void(std::error_code): the item was published (QoS 1, retained) and
  // acknowledged. EcosystemErrc::opted_out when sharing is off, too_large
  // over 512 KiB of data; copy_file reads the file (file_error).
  void copy_text(std::string text, std::function<void(std::error_code)> handler);
  void copy_image(std::string mime, std::string bytes,
                  std::function<void(std::error_code)> handler);
  void copy_file(std::filesystem::path path, std::string mime,
                 std::function<void(std::error_code)> handler);

  // Notifications. post: `n.origin` is set to this device and `n.time` when
  // empty. dismiss: any device may dismiss any notification of the group.
  void post_notification(Notification n, std::function<void(std::error_code)> handler);
  void dismiss_notification(std::string origin, std::string id,
                            std::function<void(std::error_code)> handler);
  // Calls notification.action on the notification's origin.
  void act_on_notification(std::string origin, std::string id, std::string action, std::string text,
                           std::function<void(std::error_code)> handler);

  // Handoff. set/clear publish users/{u}/activities/{self} (retained).
  void set_activity(Activity activity, std::function<void(std::error_code)> handler);
  void clear_activity(std::function<void(std::error_code)> handler);
  // void(std::error_code, Activity): takes `device`'s activity through
  // handoff.take; when the device does not answer (offline: Errc::not_found,
  // or Errc::timeout) the retained activity is used instead and its
  // retained message cleared. EcosystemErrc::no_activity when neither exists.
  void continue_activity(std::string device,
                         std::function<void(std::error_code, Activity)> handler);

  // Media. publish: users/{u}/media/{self} (retained). control: media.control
  // on `device`; completes with its new now-playing state. `volume` only
  // with action "volume".
  void publish_media(NowPlaying state, std::function<void(std::error_code)> handler);
  void control_media(std::string device, std::string action, std::optional<int> volume,
                     std::function<void(std::error_code, NowPlaying)> handler);

  // Find my device: `stop` false rings, true asks it to stop.
  void ring(std::string device, bool stop, std::function<void(std::error_code)> handler);
  // Remote command: void(std::error_code, std::string output). Errc::not_found
  // for an unknown command, Errc::request_failed for 403 (not allowed).
  void run_command(std::string device, std::string name,
                   std::function<void(std::error_code, std::string)> handler);
  // Share text or a URL (exactly one of them non-empty).
  void share(std::string device, std::string text, std::string url,
             std::function<void(std::error_code)> handler);

  // File transfer. void(std::error_code, Transfer): completes when the
  // receiver reports the file complete (its SHA-256 checked), or with
  // EcosystemErrc::declined, transfer_failed, cancelled, file_error (the
  // file cannot be read), or the offer call's error. The file is read in
  // chunks as the receiver asks (bounded memory, any size).
  void send_file(std::string device, std::filesystem::path path, std::string mime,
                 std::function<void(std::error_code, Transfer)> handler);
  // To every other online device of the group: completes when all have
  // ended, with one Transfer per device (each with its own state/error);
  // the error is the first failure's, or empty.
  void send_file_to_all(std::filesystem::path path, std::string mime,
                        std::function<void(std::error_code, std::vector<Transfer>)> handler);
  // Ends a transfer of either direction (the other side is told).
  void cancel_transfer(std::string transfer_id);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace allscene::sdk

template <>
struct std::is_error_code_enum<allscene::sdk::EcosystemErrc> : std::true_type {};
