#include "probe_ecosystem.hpp"

#include "probe_output.hpp"

namespace probe {
namespace {

using nlohmann::json;
using namespace allscene::sdk;

const char* state_name(TransferState s) {
  switch (s) {
    case TransferState::offered:
      return "offered";
    case TransferState::active:
      return "active";
    case TransferState::complete:
      return "complete";
    case TransferState::failed:
      return "failed";
    case TransferState::declined:
      return "declined";
    case TransferState::cancelled:
      return "cancelled";
  }
  return "?";
}

json to_json(const Transfer& t) {
  return {{"transfer", t.id},
          {"direction", t.direction == TransferDirection::sending ? "sending" : "receiving"},
          {"peer", t.peer},
          {"name", t.name},
          {"size", t.size},
          {"bytes", t.bytes},
          {"sha256", t.sha256},
          {"state", state_name(t.state)},
          {"path", t.path.string()}};
}

json to_json(const DeviceCard& c) {
  json j = {{"deviceId", c.device_id}, {"name", c.name},          {"class", c.device_class},
            {"online", c.online},      {"lastSeen", c.last_seen}, {"capabilities", c.capabilities}};
  if (c.battery) j["battery"] = {{"level", c.battery->level}, {"charging", c.battery->charging}};
  return j;
}

// The completion of command `id`: {"event": event, "id": id, code, error, …}.
auto done(std::string event, json id) {
  return [event = std::move(event), id = std::move(id)](std::error_code ec) {
    probe::emit(with_error({{"event", event}, {"id", id}}, ec));
  };
}

bool client_command(DeviceClient& client, const std::string& op, const json& cmd, const json& id) {
  if (op == "subscribe") {
    client.subscribe(cmd.value("filter", ""), [](const std::string& topic, const std::string& p) {
      emit({{"event", "message"}, {"topic", topic}, {"payload", p}});
    });
    emit({{"event", "subscribed"}, {"id", id}});
  } else if (op == "publish") {
    client.async_publish(cmd.value("topic", ""), cmd.value("payload", ""), cmd.value("qos", 1),
                         cmd.value("retain", false), done("published", id));
  } else if (op == "call") {
    client.async_call(
        cmd.value("device", ""), cmd.value("method", ""), cmd.value("payload", json::object()),
        std::chrono::seconds(cmd.value("timeout", 10)),
        [id](std::error_code ec, const MethodResult& r) {
          emit(with_error(
              {{"event", "called"}, {"id", id}, {"status", r.status}, {"payload", r.payload}}, ec));
        });
  } else if (op == "service") {
    client.async_service(
        cmd.value("service", ""), cmd.value("operation", ""), cmd.value("request", json::object()),
        std::chrono::seconds(cmd.value("timeout", 10)),
        [id](std::error_code ec, const MethodResult& r) {
          emit(with_error(
              {{"event", "serviced"}, {"id", id}, {"status", r.status}, {"payload", r.payload}},
              ec));
        });
  } else if (op == "whoami") {
    async_whoami(client, [id](std::error_code ec, const Identity& me) {
      emit(with_error({{"event", "whoami"},
                       {"id", id},
                       {"deviceId", me.device_id},
                       {"owner", me.owner},
                       {"name", me.name},
                       {"class", me.device_class}},
                      ec));
    });
  } else {
    return false;
  }
  return true;
}

}  // namespace

void watch_ecosystem(Ecosystem& eco, bool decline_files) {
  eco.on_device_changed([](const DeviceCard& c) {
    emit({{"event", "device"}, {"card", to_json(c)}});
  });
  eco.on_device_removed([](const std::string& id) {
    emit({{"event", "device_removed"}, {"deviceId", id}});
  });
  eco.on_clipboard([](const ClipboardItem& c) {
    emit({{"event", "clipboard"},
          {"from", c.from},
          {"mime", c.mime},
          {"text", c.text},
          {"size", c.data.size()}});
  });
  eco.on_notification([](const Notification& n, bool dismissed) {
    emit({{"event", dismissed ? "notification_dismissed" : "notification"},
          {"origin", n.origin},
          {"nid", n.id},
          {"title", n.title}});
  });
  eco.on_ring([](const RingRequest& r) {
    emit({{"event", "ring"}, {"from", r.from}, {"stop", r.stop}});
  });
  eco.on_share([](const SharedItem& s) {
    emit({{"event", "share"}, {"from", s.from}, {"text", s.text}, {"url", s.url}});
  });
  eco.on_file_offer([decline_files](const FileOffer& o) {
    emit({{"event", "file_offer"}, {"from", o.from}, {"name", o.name}, {"size", o.size}});
    return !decline_files;
  });
  eco.on_transfer([](const Transfer& t) {
    if (t.state != TransferState::active) emit({{"event", "transfer"}, {"transfer", to_json(t)}});
  });
  eco.on_log([](std::string_view line) { emit({{"event", "log"}, {"line", line}}); });
}

bool ecosystem_command(Ecosystem* eco, DeviceClient& client, const std::string& op,
                       const json& cmd) {
  const json id = cmd.value("id", json());
  if (client_command(client, op, cmd, id)) return true;
  if (eco == nullptr) return false;
  if (op == "eco_status") {
    eco->report_status(Battery{cmd.value("level", 50), cmd.value("charging", false)},
                       done("eco_status", id));
  } else if (op == "copy") {
    eco->copy_text(cmd.value("text", ""), done("copied", id));
  } else if (op == "notify") {
    Notification n;
    n.id = cmd.value("nid", "");
    n.title = cmd.value("title", "");
    eco->post_notification(n, done("notified", id));
  } else if (op == "dismiss") {
    eco->dismiss_notification(cmd.value("origin", ""), cmd.value("nid", ""), done("dismissed", id));
  } else if (op == "ring") {
    eco->ring(cmd.value("device", ""), cmd.value("stop", false), done("rung", id));
  } else if (op == "share") {
    eco->share(cmd.value("device", ""), cmd.value("text", ""), cmd.value("url", ""),
               done("shared", id));
  } else if (op == "send_file") {
    eco->send_file(
        cmd.value("device", ""), cmd.value("path", ""), cmd.value("mime", ""),
        [id](std::error_code ec, const Transfer& t) {
          emit(with_error({{"event", "file_sent"}, {"id", id}, {"transfer", to_json(t)}}, ec));
        });
  } else if (op == "devices") {
    json list = json::array();
    for (const auto& card : eco->devices()) list.push_back(to_json(card));
    emit({{"event", "devices"}, {"id", id}, {"devices", list}});
  } else {
    return false;
  }
  return true;
}

}  // namespace probe
