// The Ecosystem facade: public calls post to the client's strand; the
// engine is Ecosystem::Impl (ecosystem_impl.hpp).
#include "allscene/ecosystem.hpp"

#include <boost/asio/post.hpp>

#include "client_impl.hpp"
#include "ecosystem_impl.hpp"

namespace allscene::sdk {
namespace {

namespace asio = boost::asio;

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "allscene.ecosystem"; }
  std::string message(int value) const override {
    switch (static_cast<EcosystemErrc>(value)) {
      case EcosystemErrc::opted_out:
        return "clipboard sharing is off on this device";
      case EcosystemErrc::too_large:
        return "clipboard item over 512 KiB";
      case EcosystemErrc::declined:
        return "the receiver declined the file";
      case EcosystemErrc::hash_mismatch:
        return "the received file's SHA-256 differs from the offer";
      case EcosystemErrc::file_error:
        return "a local file could not be read or written";
      case EcosystemErrc::transfer_failed:
        return "the other device reported the transfer failed";
      case EcosystemErrc::cancelled:
        return "the transfer was cancelled";
      case EcosystemErrc::no_activity:
        return "the device has no activity to continue";
      case EcosystemErrc::invalid_argument:
        return "invalid argument";
    }
    return "unknown allscene.ecosystem error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& ecosystem_category() {
  static const Category category;
  return category;
}

Ecosystem::Ecosystem(DeviceClient& client, EcosystemOptions options)
    : impl_(std::make_shared<Impl>(client, std::move(options))) {
  impl_->follow_connection(client.impl_);
}

Ecosystem::~Ecosystem() { stop(); }

void Ecosystem::on_device_changed(std::function<void(const DeviceCard&)> h) {
  impl_->callbacks.device_changed = std::move(h);
}
void Ecosystem::on_device_removed(std::function<void(const std::string&)> h) {
  impl_->callbacks.device_removed = std::move(h);
}
void Ecosystem::on_clipboard(std::function<void(const ClipboardItem&)> h) {
  impl_->callbacks.clipboard = std::move(h);
}
void Ecosystem::on_notification(std::function<void(const Notification&, bool)> h) {
  impl_->callbacks.notification = std::move(h);
}
void Ecosystem::on_notification_action(std::function<bool(const NotificationActionRequest&)> h) {
  impl_->callbacks.notification_action = std::move(h);
}
void Ecosystem::on_activity(std::function<void(const Activity&, bool)> h) {
  impl_->callbacks.activity = std::move(h);
}
void Ecosystem::on_handoff(std::function<nlohmann::json(const Activity&)> h) {
  impl_->callbacks.handoff = std::move(h);
}
void Ecosystem::on_media(std::function<void(const NowPlaying&)> h) {
  impl_->callbacks.media = std::move(h);
}
void Ecosystem::on_media_control(std::function<std::optional<NowPlaying>(const MediaControl&)> h) {
  impl_->callbacks.media_control = std::move(h);
}
void Ecosystem::on_ring(std::function<void(const RingRequest&)> h) {
  impl_->callbacks.ring = std::move(h);
}
void Ecosystem::on_share(std::function<void(const SharedItem&)> h) {
  impl_->callbacks.share = std::move(h);
}
void Ecosystem::on_file_offer(std::function<bool(const FileOffer&)> h) {
  impl_->callbacks.file_offer = std::move(h);
}
void Ecosystem::on_transfer(std::function<void(const Transfer&)> h) {
  impl_->callbacks.transfer = std::move(h);
}
void Ecosystem::on_log(std::function<void(std::string_view)> h) {
  impl_->callbacks.log = std::move(h);
}

void Ecosystem::add_command(std::string name, CommandInfo info,
                            std::function<std::string(const std::string&)> run) {
  impl_->commands[std::move(name)] = Impl::Command{std::move(info), std::move(run)};
}

std::error_code Ecosystem::start() { return impl_->start(); }

void Ecosystem::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->strand(), [impl = impl_] { impl->stop(); });
}

std::vector<DeviceCard> Ecosystem::devices() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<DeviceCard> out;
  for (const auto& [id, card] : impl_->cards) out.push_back(card);
  return out;
}
std::optional<ClipboardItem> Ecosystem::clipboard() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->clipboard;
}
std::vector<Notification> Ecosystem::notifications() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<Notification> out;
  for (const auto& [key, n] : impl_->notifications) out.push_back(n);
  return out;
}
std::vector<Activity> Ecosystem::activities() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<Activity> out;
  for (const auto& [device, a] : impl_->activities) out.push_back(a);
  return out;
}
std::optional<Activity> Ecosystem::activity() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->own_activity;
}
std::vector<NowPlaying> Ecosystem::media() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<NowPlaying> out;
  for (const auto& [device, m] : impl_->media) out.push_back(m);
  return out;
}
std::vector<Transfer> Ecosystem::transfers() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<Transfer> out;
  for (const auto& [key, t] : impl_->transfers) out.push_back(t);
  return out;
}
std::uint64_t Ecosystem::malformed_messages() const { return impl_->malformed; }

// Each operation runs on the strand; the handler is completed there.
template <class Fn>
static void on_strand(const std::shared_ptr<Ecosystem::Impl>& impl, Fn fn) {
  asio::post(impl->strand(), [impl, fn = std::move(fn)]() mutable { fn(*impl); });
}

void Ecosystem::report_status(std::optional<Battery> battery,
                              std::function<void(std::error_code)> h) {
  on_strand(impl_, [battery, h = std::move(h)](Impl& i) mutable {
    i.report_status(battery, std::move(h));
  });
}

void Ecosystem::copy_text(std::string text, std::function<void(std::error_code)> h) {
  ClipboardItem item;
  item.mime = "text/plain";
  item.text = std::move(text);
  on_strand(impl_, [item = std::move(item), h = std::move(h)](Impl& i) mutable {
    i.copy(std::move(item), std::move(h));
  });
}

void Ecosystem::copy_image(std::string mime, std::string bytes,
                           std::function<void(std::error_code)> h) {
  ClipboardItem item;
  item.mime = std::move(mime);
  item.data = std::move(bytes);
  on_strand(impl_, [item = std::move(item), h = std::move(h)](Impl& i) mutable {
    i.copy(std::move(item), std::move(h));
  });
}

void Ecosystem::copy_file(std::filesystem::path path, std::string mime,
                          std::function<void(std::error_code)> h) {
  on_strand(impl_, [p = std::move(path), m = std::move(mime), h = std::move(h)](Impl& i) mutable {
    i.copy_file(p, std::move(m), std::move(h));
  });
}

void Ecosystem::post_notification(Notification n, std::function<void(std::error_code)> h) {
  on_strand(impl_, [n = std::move(n), h = std::move(h)](Impl& i) mutable {
    i.post_notification(std::move(n), std::move(h));
  });
}

void Ecosystem::dismiss_notification(std::string origin, std::string id,
                                     std::function<void(std::error_code)> h) {
  on_strand(impl_, [o = std::move(origin), id = std::move(id), h = std::move(h)](Impl& i) mutable {
    i.dismiss_notification(o, id, std::move(h));
  });
}

void Ecosystem::act_on_notification(std::string origin, std::string id, std::string action,
                                    std::string text, std::function<void(std::error_code)> h) {
  on_strand(impl_, [o = std::move(origin), id = std::move(id), a = std::move(action),
                    t = std::move(text), h = std::move(h)](Impl& i) mutable {
    i.act_on_notification(o, id, a, t, std::move(h));
  });
}

void Ecosystem::set_activity(Activity activity, std::function<void(std::error_code)> h) {
  on_strand(impl_, [a = std::move(activity), h = std::move(h)](Impl& i) mutable {
    i.set_activity(std::move(a), std::move(h));
  });
}

void Ecosystem::clear_activity(std::function<void(std::error_code)> h) {
  on_strand(impl_, [h = std::move(h)](Impl& i) mutable { i.clear_activity(std::move(h)); });
}

void Ecosystem::continue_activity(std::string device,
                                  std::function<void(std::error_code, Activity)> h) {
  on_strand(impl_, [d = std::move(device), h = std::move(h)](Impl& i) mutable {
    i.continue_activity(d, std::move(h));
  });
}

void Ecosystem::publish_media(NowPlaying state, std::function<void(std::error_code)> h) {
  on_strand(impl_, [s = std::move(state), h = std::move(h)](Impl& i) mutable {
    i.publish_media(std::move(s), std::move(h));
  });
}

void Ecosystem::control_media(std::string device, std::string action, std::optional<int> volume,
                              std::function<void(std::error_code, NowPlaying)> h) {
  on_strand(impl_, [d = std::move(device), a = std::move(action), volume, h = std::move(h)](
                       Impl& i) mutable { i.control_media(d, a, volume, std::move(h)); });
}

void Ecosystem::ring(std::string device, bool stop, std::function<void(std::error_code)> h) {
  on_strand(impl_, [d = std::move(device), stop, h = std::move(h)](Impl& i) mutable {
    i.ring(d, stop, std::move(h));
  });
}

void Ecosystem::run_command(std::string device, std::string name,
                            std::function<void(std::error_code, std::string)> h) {
  on_strand(impl_, [d = std::move(device), n = std::move(name), h = std::move(h)](Impl& i) mutable {
    i.run_command(d, n, std::move(h));
  });
}

void Ecosystem::share(std::string device, std::string text, std::string url,
                      std::function<void(std::error_code)> h) {
  on_strand(impl_, [d = std::move(device), t = std::move(text), u = std::move(url),
                    h = std::move(h)](Impl& i) mutable { i.share(d, t, u, std::move(h)); });
}

void Ecosystem::send_file(std::string device, std::filesystem::path path, std::string mime,
                          std::function<void(std::error_code, Transfer)> h) {
  on_strand(impl_,
            [d = std::move(device), p = std::move(path), m = std::move(mime),
             h = std::move(h)](Impl& i) mutable { i.send_file(d, p, std::move(m), std::move(h)); });
}

void Ecosystem::send_file_to_all(std::filesystem::path path, std::string mime,
                                 std::function<void(std::error_code, std::vector<Transfer>)> h) {
  on_strand(impl_, [p = std::move(path), m = std::move(mime), h = std::move(h)](Impl& i) mutable {
    i.send_file_to_all(p, std::move(m), std::move(h));
  });
}

void Ecosystem::cancel_transfer(std::string transfer_id) {
  on_strand(impl_, [id = std::move(transfer_id)](Impl& i) { i.cancel_transfer(id); });
}

}  // namespace allscene::sdk
