// Start and stop, the group's shared state (cards, clipboard,
// notifications, activities, media) and this device's status report.
#include <boost/asio/post.hpp>
#include <fstream>

#include "ecosystem_impl.hpp"

namespace allscene::sdk {

using detail::complete;
using nlohmann::json;

Ecosystem::Impl::Impl(DeviceClient& client, EcosystemOptions options)
    : client_(client),
      options_(std::move(options)),
      self_(client.device_id()),
      topics_(options_.user_id, self_),
      timer_(client.get_executor()) {
  if (options_.state_dir.empty()) options_.state_dir = options_.downloads_dir;
}

std::error_code Ecosystem::Impl::start() {
  if (!detail::valid_topic_level(options_.user_id) || !detail::valid_topic_level(self_)) {
    return EcosystemErrc::invalid_argument;
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.downloads_dir, ec);
  if (!ec) std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) return EcosystemErrc::file_error;
  boost::asio::post(strand(), [self = shared_from_this()] {
    if (self->stopped) return;
    self->subscribe_all();
    self->register_methods();
    self->resume_saved_transfers();
    self->tick();
  });
  return {};
}

void Ecosystem::Impl::stop() {
  timer_.cancel();
  for (auto& [id, out] : outgoing_) complete(out.done, Errc::shut_down);
  outgoing_.clear();
  incoming_.clear();  // closes the .part files; their state files stay for a resume
  callbacks = Callbacks{};
  commands.clear();
}

template <class Handler>
void Ecosystem::Impl::subscribe(const std::string& filter, Handler handler) {
  client_.subscribe(filter, [weak = weak_from_this(), handler](const std::string& topic,
                                                               const std::string& payload) {
    const auto self = weak.lock();
    if (!self || self->stopped) return;
    const auto levels = self->topics_.levels(topic);
    if (!levels) return;
    handler(*self, *levels, payload);
  });
}

void Ecosystem::Impl::subscribe_all() {
  using Levels = std::vector<std::string_view>;
  // levels: what follows "users/{u}/", e.g. {"devices", "watch"}.
  subscribe(topics_.devices_filter(),
            [](Impl& i, const Levels& l, const std::string& p) { i.on_card(l.at(1), p); });
  if (options_.share_clipboard) {
    subscribe(topics_.clipboard(),
              [](Impl& i, const Levels&, const std::string& p) { i.on_clipboard(p); });
  }
  subscribe(topics_.notifications_filter(), [](Impl& i, const Levels& l, const std::string& p) {
    i.on_notification(l.at(1), l.at(2), p);
  });
  subscribe(topics_.activities_filter(),
            [](Impl& i, const Levels& l, const std::string& p) { i.on_activity(l.at(1), p); });
  subscribe(topics_.media_filter(),
            [](Impl& i, const Levels& l, const std::string& p) { i.on_media(l.at(1), p); });
  subscribe(topics_.own_inbox_filter(),
            [](Impl& i, const Levels& l, const std::string& p) { i.on_inbox(l, p); });
}

void Ecosystem::Impl::log(std::string_view line) {
  if (callbacks.log) callbacks.log(line);
}

void Ecosystem::Impl::reject(std::string_view what, std::string_view topic) {
  ++malformed;
  log("ecosystem: ignored " + std::string(what) + " on " + std::string(topic));
}

void Ecosystem::Impl::publish(const std::string& topic, std::string payload, int qos, bool retain,
                              Done done) {
  client_.async_publish(topic, std::move(payload), qos, retain, std::move(done));
}

void Ecosystem::Impl::on_card(std::string_view device, const std::string& payload) {
  const std::string id(device);
  if (payload.empty()) {
    std::size_t erased = 0;
    {
      std::lock_guard lock(mutex);
      erased = cards.erase(id);
    }
    if (erased > 0 && callbacks.device_removed) callbacks.device_removed(id);
    return;
  }
  auto card = detail::parse_card(payload);
  if (!card || card->device_id != id) {
    reject("a malformed device card", topics_.devices_filter());
    return;
  }
  {
    std::lock_guard lock(mutex);
    cards[id] = *card;
  }
  if (callbacks.device_changed) callbacks.device_changed(*card);
}

void Ecosystem::Impl::on_clipboard(const std::string& payload) {
  if (payload.empty()) {
    std::lock_guard lock(mutex);
    clipboard.reset();
    return;
  }
  auto item = detail::parse_clipboard(payload);
  if (!item) {
    reject("a malformed clipboard item", topics_.clipboard());
    return;
  }
  {
    std::lock_guard lock(mutex);
    clipboard = *item;
  }
  if (item->from != self_ && callbacks.clipboard) callbacks.clipboard(*item);
}

void Ecosystem::Impl::on_notification(std::string_view origin, std::string_view id,
                                      const std::string& payload) {
  const auto key = std::pair{std::string(origin), std::string(id)};
  if (payload.empty()) {
    std::optional<Notification> gone;
    {
      std::lock_guard lock(mutex);
      if (const auto it = notifications.find(key); it != notifications.end()) {
        gone = std::move(it->second);
        notifications.erase(it);
      }
    }
    if (gone && callbacks.notification) callbacks.notification(*gone, true);
    return;
  }
  auto n = detail::parse_notification(payload, key.first, key.second);
  if (!n) {
    reject("a malformed notification", topics_.notification(origin, id));
    return;
  }
  {
    std::lock_guard lock(mutex);
    notifications[key] = *n;
  }
  if (callbacks.notification) callbacks.notification(*n, false);
}

void Ecosystem::Impl::on_activity(std::string_view device, const std::string& payload) {
  const std::string id(device);
  std::optional<Activity> activity;
  if (!payload.empty()) {
    const auto j = detail::parse_object(payload);
    if (j) activity = detail::parse_activity(*j, id);
    if (!activity) {
      reject("a malformed activity", topics_.activity(id));
      return;
    }
  }
  if (id == self_) {
    // Ours, as the hub keeps it: a restarted process takes it back; an empty
    // one means another device continued it from the retained copy.
    std::lock_guard lock(mutex);
    if (!activity) {
      own_activity.reset();
    } else if (!own_activity) {
      own_activity = activity;
    }
    return;
  }
  std::optional<Activity> ended;
  {
    std::lock_guard lock(mutex);
    if (activity) {
      activities[id] = *activity;
    } else if (const auto it = activities.find(id); it != activities.end()) {
      ended = std::move(it->second);
      activities.erase(it);
    }
  }
  if (!callbacks.activity) return;
  if (activity) callbacks.activity(*activity, false);
  if (ended) callbacks.activity(*ended, true);
}

void Ecosystem::Impl::on_media(std::string_view device, const std::string& payload) {
  const std::string id(device);
  if (payload.empty()) {
    std::lock_guard lock(mutex);
    media.erase(id);
    return;
  }
  std::optional<NowPlaying> state;
  if (const auto j = detail::parse_object(payload)) state = detail::parse_now_playing(*j, id);
  if (!state) {
    reject("a malformed now-playing state", topics_.media(id));
    return;
  }
  {
    std::lock_guard lock(mutex);
    media[id] = *state;
  }
  if (id != self_ && callbacks.media) callbacks.media(*state);
}

void Ecosystem::Impl::report_status(std::optional<Battery> battery, Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  json status = {{"capabilities", options_.capabilities}, {"commands", json::object()}};
  for (const auto& [name, command] : commands) {
    status["commands"][name] = {{"label", command.info.label}, {"allow", command.info.allow}};
  }
  if (battery) status["battery"] = {{"level", battery->level}, {"charging", battery->charging}};
  client_.async_report_properties({{"ecosystem", status}},
                                  [done = std::move(done)](std::error_code ec, std::int64_t) {
                                    if (done) done(ec);
                                  });
}

void Ecosystem::Impl::copy(ClipboardItem item, Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (!options_.share_clipboard) return complete(done, EcosystemErrc::opted_out);
  const std::size_t size = item.data.empty() ? item.text.size() : item.data.size();
  if (size > detail::kMaxClipboardData) return complete(done, EcosystemErrc::too_large);
  if (item.mime.empty()) return complete(done, EcosystemErrc::invalid_argument);
  item.from = self_;
  item.time = detail::iso_now();
  publish(topics_.clipboard(), detail::to_json(item).dump(), 1, true, std::move(done));
}

void Ecosystem::Impl::copy_file(const std::filesystem::path& path, std::string mime, Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (!options_.share_clipboard) return complete(done, EcosystemErrc::opted_out);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return complete(done, EcosystemErrc::file_error);
  if (size > detail::kMaxClipboardData) return complete(done, EcosystemErrc::too_large);
  std::ifstream in(path, std::ios::binary);
  auto bytes = detail::read_chunk(in, 0, size);
  if (!bytes) return complete(done, EcosystemErrc::file_error);
  ClipboardItem item;
  item.mime = mime.empty() ? "application/octet-stream" : std::move(mime);
  item.name = path.filename().string();
  item.data = std::move(*bytes);
  copy(std::move(item), std::move(done));
}

void Ecosystem::Impl::post_notification(Notification n, Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (!detail::valid_topic_level(n.id)) return complete(done, EcosystemErrc::invalid_argument);
  n.origin = self_;
  if (n.time.empty()) n.time = detail::iso_now();
  publish(topics_.notification(self_, n.id), detail::to_json(n).dump(), 1, true, std::move(done));
}

void Ecosystem::Impl::dismiss_notification(const std::string& origin, const std::string& id,
                                           Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (!detail::valid_topic_level(origin) || !detail::valid_topic_level(id)) {
    return complete(done, EcosystemErrc::invalid_argument);
  }
  // An empty retained message removes it from the hub and every device.
  publish(topics_.notification(origin, id), "", 1, true, std::move(done));
}

void Ecosystem::Impl::set_activity(Activity activity, Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (activity.app.empty() && activity.uri.empty()) {
    return complete(done, EcosystemErrc::invalid_argument);
  }
  activity.device_id = self_;
  if (activity.time.empty()) activity.time = detail::iso_now();
  {
    std::lock_guard lock(mutex);
    own_activity = activity;
  }
  publish(topics_.activity(self_), detail::to_json(activity).dump(), 1, true, std::move(done));
}

void Ecosystem::Impl::clear_activity(Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  {
    std::lock_guard lock(mutex);
    own_activity.reset();
  }
  publish(topics_.activity(self_), "", 1, true, std::move(done));
}

void Ecosystem::Impl::publish_media(NowPlaying state, Done done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (!detail::parse_now_playing(detail::to_json(state), self_)) {
    return complete(done, EcosystemErrc::invalid_argument);  // an unknown "state"
  }
  state.device_id = self_;
  publish(topics_.media(self_), detail::to_json(state).dump(), 1, true, std::move(done));
}

}  // namespace allscene::sdk
