// The feature methods: answering them (this device as the target) and
// calling them on other devices of the group through $ecosystem/call.
#include "ecosystem_impl.hpp"

namespace allscene::sdk {

using detail::complete;
using nlohmann::json;

namespace {

MethodResult answer(int status, json payload = json::object()) {
  return MethodResult{status, std::move(payload)};
}
MethodResult error(int status, std::string message) {
  return answer(status, {{"error", std::move(message)}});
}

bool is_media_action(std::string_view a) {
  return a == "play" || a == "pause" || a == "toggle" || a == "next" || a == "previous" ||
         a == "volume";
}

}  // namespace

template <class Handler>
void Ecosystem::Impl::method(const std::string& name, Handler handler) {
  client_.on_method(name, [weak = weak_from_this(), name, handler](const MethodRequest& r) {
    const auto self = weak.lock();
    if (!self || self->stopped) return error(404, "not available");
    if (!r.payload.is_object() && !r.payload.is_null()) {
      self->reject("a call whose payload is not a JSON object", name);
      return error(400, "the payload must be a JSON object");
    }
    const json payload = r.payload.is_null() ? json::object() : r.payload;
    // The hub writes the caller's id into "from": it cannot be forged.
    return handler(*self, detail::string_member(payload, "from"), payload);
  });
}

void Ecosystem::Impl::register_methods() {
  method("ring",
         [](Impl& i, const std::string& from, const json& p) { return i.on_ring(from, p); });
  method("media.control", [](Impl& i, const std::string& from, const json& p) {
    return i.on_media_control(from, p);
  });
  method("command.run",
         [](Impl& i, const std::string& from, const json& p) { return i.on_command(from, p); });
  method("handoff.take",
         [](Impl& i, const std::string&, const json& p) { return i.on_handoff(p); });
  method("notification.action", [](Impl& i, const std::string& from, const json& p) {
    return i.on_notification_action(from, p);
  });
  method("share",
         [](Impl& i, const std::string& from, const json& p) { return i.on_share(from, p); });
  method("file.offer",
         [](Impl& i, const std::string&, const json& p) { return i.on_file_offer(p); });
}

MethodResult Ecosystem::Impl::on_ring(const std::string& from, const json& payload) {
  if (!callbacks.ring) return error(404, "this device cannot ring");
  RingRequest request{from, false};
  if (const auto it = payload.find("stop"); it != payload.end() && it->is_boolean()) {
    request.stop = it->get<bool>();
  }
  callbacks.ring(request);
  return answer(200);
}

MethodResult Ecosystem::Impl::on_media_control(const std::string& from, const json& payload) {
  if (!callbacks.media_control) return error(404, "no media player");
  MediaControl control{from, detail::string_member(payload, "action"), std::nullopt};
  if (!is_media_action(control.action)) return error(400, "unknown action");
  if (control.action == "volume") {
    const auto it = payload.find("volume");
    if (it == payload.end() || !it->is_number_integer() || it->get<int>() < 0 ||
        it->get<int>() > 100) {
      return error(400, "volume must be 0..100");
    }
    control.volume = it->get<int>();
  }
  auto state = callbacks.media_control(control);
  if (!state) return error(400, "the player cannot " + control.action);
  state->device_id = self_;
  publish_media(*state, nullptr);
  return answer(200, detail::to_json(*state));
}

MethodResult Ecosystem::Impl::on_command(const std::string& from, const json& payload) {
  const auto it = commands.find(detail::string_member(payload, "name"));
  if (it == commands.end() || !it->second.run) return error(404, "unknown command");
  return answer(200, {{"output", it->second.run(from)}});
}

MethodResult Ecosystem::Impl::on_handoff(const json&) {
  std::optional<Activity> current;
  {
    std::lock_guard lock(mutex);
    current = own_activity;
  }
  if (!current) return error(404, "no activity");
  if (callbacks.handoff) current->state = callbacks.handoff(*current);
  // The activity moves: it ends here.
  clear_activity(nullptr);
  return answer(200, detail::to_json(*current));
}

MethodResult Ecosystem::Impl::on_notification_action(const std::string& from, const json& payload) {
  NotificationActionRequest request{from, detail::string_member(payload, "id"),
                                    detail::string_member(payload, "action"),
                                    detail::string_member(payload, "text")};
  bool known = false;
  {
    std::lock_guard lock(mutex);
    known = notifications.contains({self_, request.id});
  }
  if (!known || request.action.empty()) return error(404, "unknown notification");
  if (callbacks.notification_action && !callbacks.notification_action(request)) {
    return error(404, "unknown notification");
  }
  return answer(200);
}

MethodResult Ecosystem::Impl::on_share(const std::string& from, const json& payload) {
  SharedItem item{from, detail::string_member(payload, "text"),
                  detail::string_member(payload, "url")};
  if (item.text.empty() == item.url.empty()) return error(400, "one of text or url");
  if (!callbacks.share) return error(404, "sharing is not supported");
  callbacks.share(item);
  return answer(200);
}

void Ecosystem::Impl::call(const std::string& device, const std::string& method, json payload,
                           std::function<void(std::error_code, MethodResult)> done) {
  if (stopped) return complete(done, Errc::shut_down);
  client_.async_call(
      device, method, std::move(payload), options_.call_timeout,
      [weak = weak_from_this(), done = std::move(done)](std::error_code ec, MethodResult r) {
        const auto self = weak.lock();
        if (!self || self->stopped) return complete(done, Errc::shut_down);
        done(ec, std::move(r));
      });
}

void Ecosystem::Impl::act_on_notification(const std::string& origin, const std::string& id,
                                          const std::string& action, const std::string& text,
                                          Done done) {
  json payload = {{"id", id}, {"action", action}};
  if (!text.empty()) payload["text"] = text;
  call(origin, "notification.action", std::move(payload),
       [done = std::move(done)](std::error_code ec, const MethodResult&) { done(ec); });
}

void Ecosystem::Impl::continue_activity(const std::string& device,
                                        std::function<void(std::error_code, Activity)> done) {
  call(device, "handoff.take", json::object(),
       [weak = weak_from_this(), device, done = std::move(done)](std::error_code ec,
                                                                 const MethodResult& r) {
         const auto self = weak.lock();
         if (!self) return complete(done, Errc::shut_down);
         if (ec == Errc::not_found || ec == Errc::timeout) {
           // The origin is offline (or has no live activity): what the hub kept.
           return self->take_retained_activity(device, done);
         }
         if (ec) return complete(done, ec);
         auto activity = detail::parse_activity(r.payload, device);
         if (!activity) return complete(done, Errc::malformed_response);
         done({}, std::move(*activity));
       });
}

void Ecosystem::Impl::take_retained_activity(const std::string& device,
                                             std::function<void(std::error_code, Activity)> done) {
  std::optional<Activity> kept;
  {
    std::lock_guard lock(mutex);
    if (const auto it = activities.find(device); it != activities.end()) kept = it->second;
  }
  if (!kept) return complete(done, EcosystemErrc::no_activity);
  // Cleared for everyone, the origin included when it returns.
  publish(topics_.activity(device), "", 1, true,
          [kept = std::move(*kept), done = std::move(done)](std::error_code ec) {
            if (ec) return complete(done, ec);
            done({}, kept);
          });
}

void Ecosystem::Impl::control_media(const std::string& device, const std::string& action,
                                    std::optional<int> volume,
                                    std::function<void(std::error_code, NowPlaying)> done) {
  if (!is_media_action(action) || (action == "volume") != volume.has_value()) {
    return complete(done, EcosystemErrc::invalid_argument);
  }
  json payload = {{"action", action}};
  if (volume) payload["volume"] = *volume;
  call(device, "media.control", std::move(payload),
       [device, done = std::move(done)](std::error_code ec, const MethodResult& r) {
         if (ec) return complete(done, ec);
         auto state = detail::parse_now_playing(r.payload, device);
         if (!state) return complete(done, Errc::malformed_response);
         done({}, std::move(*state));
       });
}

void Ecosystem::Impl::ring(const std::string& device, bool stop, Done done) {
  call(device, "ring", stop ? json{{"stop", true}} : json::object(),
       [done = std::move(done)](std::error_code ec, const MethodResult&) { done(ec); });
}

void Ecosystem::Impl::run_command(const std::string& device, const std::string& name,
                                  std::function<void(std::error_code, std::string)> done) {
  call(device, "command.run", {{"name", name}},
       [done = std::move(done)](std::error_code ec, const MethodResult& r) {
         if (ec) return complete(done, ec);
         done({}, r.payload.is_object() ? detail::string_member(r.payload, "output") : "");
       });
}

void Ecosystem::Impl::share(const std::string& device, const std::string& text,
                            const std::string& url, Done done) {
  if (text.empty() == url.empty()) return complete(done, EcosystemErrc::invalid_argument);
  call(device, "share", text.empty() ? json{{"url", url}} : json{{"text", text}},
       [done = std::move(done)](std::error_code ec, const MethodResult&) { done(ec); });
}

void async_whoami(DeviceClient& client, std::function<void(std::error_code, Identity)> handler) {
  client.async_call(
      std::string(detail::kHubTarget), "whoami", json::object(), std::chrono::seconds(10),
      [handler = std::move(handler)](std::error_code ec, const MethodResult& r) {
        if (ec) return complete(handler, ec);
        if (!r.payload.is_object()) return complete(handler, Errc::malformed_response);
        Identity id{
            detail::string_member(r.payload, "deviceId"), detail::string_member(r.payload, "owner"),
            detail::string_member(r.payload, "name"), detail::string_member(r.payload, "class")};
        if (id.device_id.empty() || id.owner.empty()) {
          return complete(handler, Errc::malformed_response);
        }
        handler({}, std::move(id));
      });
}

}  // namespace allscene::sdk
