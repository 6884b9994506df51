// allscene-sdk-probe: drives one DeviceClient (on its own thread) from
// stdin, one JSON command per line, and prints one JSON line per result or
// callback, for tests/integration/test_sdk.py. Commands:
//   {"op":"send","id":N,"payload":"…","ct":"…","ce":"…","mid":"…","props":[["k","v"],…]}
//   {"op":"get_twin","id":N}
//   {"op":"report","id":N,"patch":{…}}
//   {"op":"method","name":"…","status":S,"payload":…}  (answer `name` so; a null
//      payload echoes the request's)
//   {"op":"stop"}
// Plain topics and group calls:
//   {"op":"subscribe","filter":"…"}  (messages as {"event":"message",…})
//   {"op":"publish","id":N,"topic":"…","payload":"…","qos":0|1,"retain":b}
//   {"op":"call","id":N,"device":"…","method":"…","payload":{…},"timeout":s}
//   {"op":"whoami","id":N}
//   {"op":"service","id":N,"service":"…","operation":"…","request":{…},"timeout":s}
// With --ecosystem USER (an Ecosystem on the client, callbacks as events:
// device, clipboard, notification, ring, share, file_offer, transfer, log):
//   {"op":"eco_status","id":N,"level":n,"charging":b}  {"op":"copy","id":N,"text":"…"}
//   {"op":"notify","id":N,"nid":"…","title":"…"}  {"op":"dismiss","id":N,"origin":"…","nid":"…"}
//   {"op":"ring","id":N,"device":"…"}  {"op":"share","id":N,"device":"…","text":"…"}
//   {"op":"send_file","id":N,"device":"…","path":"…"}  {"op":"devices","id":N}
// Output events: ready, connected, disconnected, sent, twin, reported,
// desired, method, c2d, stopped; errors as {"error":message,"code":name}.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "allscene/connection_string.hpp"
#include "allscene/device_client.hpp"
#include "allscene/ecosystem.hpp"
#include "probe_ecosystem.hpp"
#include "probe_output.hpp"

namespace {

using nlohmann::json;
using namespace allscene::sdk;
using probe::emit;
using probe::with_error;

std::mutex out_mutex;

std::string ecosystem_code_name(EcosystemErrc e) {
  switch (e) {
    case EcosystemErrc::opted_out:
      return "opted_out";
    case EcosystemErrc::too_large:
      return "too_large";
    case EcosystemErrc::declined:
      return "declined";
    case EcosystemErrc::hash_mismatch:
      return "hash_mismatch";
    case EcosystemErrc::file_error:
      return "file_error";
    case EcosystemErrc::transfer_failed:
      return "transfer_failed";
    case EcosystemErrc::cancelled:
      return "cancelled";
    case EcosystemErrc::no_activity:
      return "no_activity";
    case EcosystemErrc::invalid_argument:
      return "invalid_argument";
  }
  return "ecosystem:" + std::to_string(static_cast<int>(e));
}

std::string code_name(std::error_code ec) {
  if (!ec) return "";
  if (ec.category() == ecosystem_category()) {
    return ecosystem_code_name(static_cast<EcosystemErrc>(ec.value()));
  }
  if (ec.category() != sdk_category())
    return ec.category().name() + std::string(":") + std::to_string(ec.value());
  switch (static_cast<Errc>(ec.value())) {
    case Errc::invalid_connection_string:
      return "invalid_connection_string";
    case Errc::invalid_key:
      return "invalid_key";
    case Errc::invalid_options:
      return "invalid_options";
    case Errc::not_authorized:
      return "not_authorized";
    case Errc::connection_refused:
      return "connection_refused";
    case Errc::protocol_error:
      return "protocol_error";
    case Errc::keep_alive_timeout:
      return "keep_alive_timeout";
    case Errc::connection_lost:
      return "connection_lost";
    case Errc::shut_down:
      return "shut_down";
    case Errc::queue_full:
      return "queue_full";
    case Errc::timeout:
      return "timeout";
    case Errc::bad_request:
      return "bad_request";
    case Errc::not_found:
      return "not_found";
    case Errc::payload_too_large:
      return "payload_too_large";
    case Errc::throttled:
      return "throttled";
    case Errc::hub_error:
      return "hub_error";
    case Errc::request_failed:
      return "request_failed";
    case Errc::malformed_response:
      return "malformed_response";
  }
  return "sdk:" + std::to_string(ec.value());
}

}  // namespace

void probe::emit(const json& line) {
  const std::string text = line.dump();
  std::lock_guard lock(out_mutex);
  std::cout << text << std::endl;
}

json probe::with_error(json line, std::error_code ec) {
  line["code"] = code_name(ec);
  line["error"] = ec ? ec.message() : "";
  return line;
}

namespace {

json to_json(const Properties& props) {
  json out = json::array();
  for (const auto& [k, v] : props) out.push_back({k, v});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Drives the allscene device SDK from stdin (JSON lines) for tests"};
  std::string connection_string, host, device, key, connect_host, ca, cert, key_file;
  std::string policy = "drop_oldest";
  int port = 0, keep_alive = 60, backoff_initial = 1000, backoff_max = 60000;
  int request_timeout = 10000, token_ttl = 3600;
  std::size_t queue_limit = 1000, queue_bytes = 4 << 20;
  bool tls = false;
  std::string ecosystem_user, downloads = ".";
  bool decline_files = false;
  app.add_option("--connection-string", connection_string,
                 "HostName=…;DeviceId=…;SharedAccessKey=…");
  app.add_option("--host", host, "hub host name (with --device and --key)");
  app.add_option("--device", device, "device id");
  app.add_option("--key", key, "shared access key (base64)");
  app.add_option("--port", port, "port (default 1883, or 8883 with --tls)");
  app.add_option("--connect-host", connect_host, "where to connect, if not the host name");
  app.add_flag("--tls", tls, "connect with TLS");
  app.add_option("--ca", ca, "CA certificates (PEM) to trust");
  app.add_option("--cert", cert, "client certificate (PEM), X.509 sign-in");
  app.add_option("--cert-key", key_file, "client certificate's private key (PEM)");
  app.add_option("--keep-alive", keep_alive, "seconds");
  app.add_option("--backoff-initial-ms", backoff_initial);
  app.add_option("--backoff-max-ms", backoff_max);
  app.add_option("--request-timeout-ms", request_timeout);
  app.add_option("--token-ttl", token_ttl, "seconds");
  app.add_option("--queue-limit", queue_limit, "offline queue bound (events)");
  app.add_option("--queue-bytes", queue_bytes, "offline queue bound (payload bytes)");
  app.add_option("--queue-policy", policy, "drop_oldest or reject_new");
  app.add_option("--ecosystem", ecosystem_user, "run an Ecosystem for this owner (user id)");
  app.add_option("--downloads", downloads, "where received files go (with --ecosystem)");
  app.add_flag("--decline-files", decline_files, "decline file offers");
  CLI11_PARSE(app, argc, argv);

  ClientOptions options;
  if (!connection_string.empty()) {
    std::error_code ec;
    const auto cs = parse_connection_string(connection_string, ec);
    if (!cs) {
      emit(with_error({{"event", "invalid"}}, ec));
      return 2;
    }
    options = options_from(*cs);
    options.tls = tls;
  } else {
    options.host_name = host;
    options.device_id = device;
    options.shared_access_key = key;
    options.tls = tls;
  }
  if (!connect_host.empty()) options.connect_host = connect_host;
  options.port = static_cast<std::uint16_t>(port);
  options.ca_file = ca;
  options.cert_file = cert;
  options.key_file = key_file;
  options.keep_alive = std::chrono::seconds(keep_alive);
  options.reconnect.initial_delay = std::chrono::milliseconds(backoff_initial);
  options.reconnect.max_delay = std::chrono::milliseconds(backoff_max);
  options.request_timeout = std::chrono::milliseconds(request_timeout);
  options.token_ttl = std::chrono::seconds(token_ttl);
  options.offline_queue_limit = queue_limit;
  options.offline_queue_bytes = queue_bytes;
  options.on_queue_full = policy == "reject_new" ? QueueFull::reject_new : QueueFull::drop_oldest;

  DeviceClient client(options);
  client.on_connection([](ConnectionStatus status, std::error_code ec) {
    emit(with_error(
        {{"event", status == ConnectionStatus::connected ? "connected" : "disconnected"}}, ec));
  });
  client.on_desired_change([](const json& patch, std::int64_t version) {
    emit({{"event", "desired"}, {"patch", patch}, {"version", version}});
  });
  client.on_message([](const CloudMessage& m) {
    emit({{"event", "c2d"}, {"payload", m.payload}, {"properties", to_json(m.properties)}});
  });
  std::unique_ptr<Ecosystem> eco;
  if (!ecosystem_user.empty()) {
    EcosystemOptions eo;
    eo.user_id = ecosystem_user;
    eo.downloads_dir = downloads;
    eco = std::make_unique<Ecosystem>(client, eo);
    probe::watch_ecosystem(*eco, decline_files);
    if (const auto ec = eco->start()) {
      emit(with_error({{"event", "invalid"}}, ec));
      return 2;
    }
  }
  if (const auto ec = client.start()) {
    emit(with_error({{"event", "invalid"}}, ec));
    return 2;
  }
  emit({{"event", "ready"}});

  std::string line;
  while (std::getline(std::cin, line)) {
    const json cmd = json::parse(line, nullptr, false);
    if (cmd.is_discarded() || !cmd.is_object() || !cmd.contains("op")) {
      emit({{"event", "bad_command"}, {"line", line}});
      continue;
    }
    const std::string op = cmd["op"].get<std::string>();
    const json id = cmd.value("id", json());
    if (op == "send") {
      Event e;
      e.payload = cmd.value("payload", "");
      e.content_type = cmd.value("ct", "");
      e.content_encoding = cmd.value("ce", "");
      e.message_id = cmd.value("mid", "");
      for (const auto& p : cmd.value("props", json::array())) {
        e.properties.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
      }
      client.async_send_event(std::move(e), [id](std::error_code ec) {
        emit(with_error({{"event", "sent"}, {"id", id}}, ec));
      });
    } else if (op == "get_twin") {
      client.async_get_twin([id](std::error_code ec, Twin twin) {
        emit(with_error({{"event", "twin"},
                         {"id", id},
                         {"desired", twin.desired},
                         {"reported", twin.reported},
                         {"desired_version", twin.desired_version},
                         {"reported_version", twin.reported_version}},
                        ec));
      });
    } else if (op == "report") {
      client.async_report_properties(
          cmd.value("patch", json()), [id](std::error_code ec, std::int64_t version) {
            emit(with_error({{"event", "reported"}, {"id", id}, {"version", version}}, ec));
          });
    } else if (op == "method") {
      const int status = cmd.value("status", 200);
      const json payload = cmd.value("payload", json());
      client.on_method(cmd.value("name", ""), [status, payload](const MethodRequest& r) {
        emit({{"event", "method"}, {"name", r.name}, {"payload", r.payload}});
        return MethodResult{status, payload.is_null() ? r.payload : payload};
      });
      emit({{"event", "method_set"}, {"name", cmd.value("name", "")}});
    } else if (op == "stop") {
      break;
    } else if (probe::ecosystem_command(eco.get(), client, op, cmd)) {
      continue;
    } else {
      emit({{"event", "bad_command"}, {"line", line}});
    }
  }
  if (eco) eco->stop();
  client.stop();
  emit({{"event", "stopped"}});
  return 0;
}
