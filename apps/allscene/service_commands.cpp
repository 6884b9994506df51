#include "service_commands.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "api/service_auth.hpp"
#include "azure/azure.hpp"
#include "backend.hpp"
#include "registry/model.hpp"

namespace allscene::app {

namespace {

using nlohmann::json;

CLI::App* command(CLI::App* parent, const char* name, const char* help, std::string& data_dir,
                  bool& json_flag) {
  auto* c = parent->add_subcommand(name, help);
  c->add_option("--data-dir", data_dir, "The hub's data directory (the hub may be running)")
      ->default_str(data_dir);
  c->add_flag("--json", json_flag, "Print compact JSON (one document) for scripts");
  return c;
}

json parse_json_argument(const std::string& text, const char* what) {
  auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw registry::RegistryError(fmt::format("{} is not JSON: {}", what, text));
  }
  return j;
}

std::string twin_path(const std::string& device) { return "/twins/" + azure::url_encode(device); }

}  // namespace

ServiceCommands::ServiceCommands(CLI::App& app, const std::string& hub_host) : hub_host_(hub_host) {
  twin_ = app.add_subcommand("twin", "Read and change device twins (tags, desired properties)");
  twin_->require_subcommand(1);
  twin_get_ = command(twin_, "get", "Print a device's twin (with its etag)", data_dir_, json_);
  twin_get_->add_option("device", device_, "Device id")->required();
  twin_set_ = command(twin_, "set",
                      "Patch a device's twin: desired properties (sent to the device) and tags; "
                      "null deletes a property",
                      data_dir_, json_);
  twin_set_->add_option("device", device_, "Device id")->required();
  twin_set_->add_option("patch", patch_,
                        "JSON: {\"desired\": {...}} (and/or \"tags\"), e.g. "
                        "'{\"desired\":{\"fan\":{\"speed\":3}}}'");
  twin_set_->add_option("--tags", tags_,
                        "JSON object of tags to merge, e.g. '{\"room\":\"hall\"}'");
  twin_set_->add_option("--etag", etag_,
                        "Change only if the twin still has this etag (else refused: 412)");
  twin_set_->add_flag("--replace", replace_,
                      "Replace desired properties and tags instead of merging (Azure's PUT)");

  call_ = command(&app, "call",
                  "Call a direct method on a connected device and print its answer "
                  "{\"status\", \"payload\"} (the hub must be running)",
                  data_dir_, json_);
  call_->add_option("device", device_, "Device id")->required();
  call_->add_option("method", method_, "Method name")->required();
  call_->add_option("payload", payload_,
                    "JSON payload (text that is not JSON is sent as a string)");
  call_->add_option("--timeout", timeout_, "Seconds to wait for the device's answer (1-300)")
      ->default_str("30");

  send_ = command(&app, "send",
                  "Send a cloud-to-device message; an offline device gets it when it returns "
                  "(the hub must be running)",
                  data_dir_, json_);
  send_->add_option("device", device_, "Device id")->required();
  send_->add_option("message", message_, "The message text")->required();
  send_->add_option("--property", properties_,
                    "Application property KEY=VALUE; repeat for several");
  send_->add_option("--ttl", ttl_, "Seconds the message waits for an offline device (0: default)")
      ->default_str("0");

  query_ = command(&app, "query",
                   "Query device twins with Azure's language, e.g. \"SELECT * FROM devices WHERE "
                   "tags.room = 'hall'\"; prints one row per line",
                   data_dir_, json_);
  query_->add_option("query", query_text_, "The query")->required();
  query_->add_option("--page-size", page_size_, "Rows per request (1-10000); all pages are read")
      ->default_str("100");

  service_ = app.add_subcommand("service", "Service credentials (shared access policies)");
  service_->require_subcommand(1);
  connection_string_ =
      command(service_, "connection-string",
              "Print the iothubowner connection string for Azure service SDKs (azure-iothub)",
              data_dir_, json_);
  connection_string_->add_option("--hub-host", hub_host_,
                                 "HostName to print (default: the config's [auth] hub_host, "
                                 "else localhost)");
  connection_string_->add_option("-c,--config", config_file_,
                                 "The hub's TOML configuration file (for [auth] hub_host)");
}

bool ServiceCommands::chosen() const {
  return twin_->parsed() || call_->parsed() || send_->parsed() || query_->parsed() ||
         service_->parsed();
}

int ServiceCommands::run() {
  try {
    if (service_->parsed()) return connection_string();
    Backend backend(data_dir_);
    if (twin_get_->parsed()) return twin_get(backend);
    if (twin_set_->parsed()) return twin_set(backend);
    if (call_->parsed()) return call(backend);
    if (send_->parsed()) return send(backend);
    return query(backend);
  } catch (const std::exception& e) {
    std::cerr << "allscene: " << e.what() << "\n";
    return 1;
  }
}

int ServiceCommands::twin_get(Backend& backend) {
  const auto twin = backend.call("GET", twin_path(device_));
  std::cout << (json_ ? twin.dump() : twin.dump(2)) << "\n";
  return 0;
}

int ServiceCommands::twin_set(Backend& backend) {
  json body = json::object();
  if (!patch_.empty()) {
    const auto patch = parse_json_argument(patch_, "the patch");
    if (!patch.is_object()) throw registry::RegistryError("the patch must be a JSON object");
    for (const auto& [key, value] : patch.items()) {
      if (key == "desired") {
        body["properties"]["desired"] = value;
      } else if (key == "tags") {
        body["tags"] = value;
      } else {
        throw registry::RegistryError(fmt::format(
            "the patch may hold \"desired\" and \"tags\", not \"{}\"; reported properties are "
            "the device's",
            key));
      }
    }
  }
  if (!tags_.empty()) body["tags"] = parse_json_argument(tags_, "--tags");
  if (body.empty()) {
    throw registry::RegistryError(
        "nothing to change; give a patch such as '{\"desired\":{\"fan\":1}}' or --tags");
  }
  api::Request request{replace_ ? "PUT" : "PATCH", twin_path(device_), body.dump(), {}};
  if (!etag_.empty()) request.headers["If-Match"] = "\"" + etag_ + "\"";
  const auto twin = Backend::json_of(backend.send(request));
  std::cout << (json_ ? twin.dump() : twin.dump(2)) << "\n";
  return 0;
}

int ServiceCommands::call(Backend& backend) {
  backend.require_hub("call a device's method");
  json payload = nullptr;
  if (!payload_.empty()) {
    payload = json::parse(payload_, nullptr, /*allow_exceptions=*/false);
    if (payload.is_discarded()) payload = payload_;
  }
  const json body{{"methodName", method_},
                  {"payload", payload},
                  {"responseTimeoutInSeconds", timeout_},
                  {"connectTimeoutInSeconds", 0}};
  // The hub answers 504 itself once the device's time is up.
  const auto answer =
      Backend::json_of(backend.send({"POST", twin_path(device_) + "/methods", body.dump(), {}},
                                    std::chrono::seconds(timeout_ + 15)));
  if (json_) {
    std::cout << answer.dump() << "\n";
  } else {
    std::cout << "status: " << answer.value("status", json()).dump() << "\n"
              << "payload: " << answer.value("payload", json()).dump(2) << "\n";
  }
  return 0;
}

int ServiceCommands::send(Backend& backend) {
  backend.require_hub("send a message to a device");
  json properties = json::object();
  for (const auto& p : properties_) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw registry::RegistryError(fmt::format("property '{}' must be KEY=VALUE", p));
    }
    properties[p.substr(0, eq)] = p.substr(eq + 1);
  }
  json body{{"payload", message_}, {"properties", properties}};
  if (ttl_ != 0) body["ttlSeconds"] = ttl_;
  const auto answer =
      backend.call("POST", "/api/v1/devices/" + azure::url_encode(device_) + "/messages", body);
  if (json_) {
    std::cout << answer.dump() << "\n";
  } else {
    std::cout << "message " << answer.value("messageId", std::string()) << " queued for " << device_
              << "\n";
  }
  return 0;
}

int ServiceCommands::query(Backend& backend) {
  if (page_size_ < 1 || page_size_ > 10000) {
    throw registry::RegistryError("--page-size must be 1 to 10000");
  }
  json all = json::array();
  std::string continuation;
  std::set<std::string> seen;  // a token given twice would loop forever
  for (;;) {
    api::Request request{"POST", "/devices/query", json{{"query", query_text_}}.dump(), {}};
    request.headers["x-ms-max-item-count"] = std::to_string(page_size_);
    if (!continuation.empty()) request.headers["x-ms-continuation"] = continuation;
    const auto response = backend.send(request);
    const auto rows = Backend::json_of(response);
    for (const auto& row : rows) {
      if (json_) {
        all.push_back(row);
      } else {
        std::cout << row.dump() << "\n";
      }
    }
    continuation = response.header("x-ms-continuation");
    if (continuation.empty()) break;
    if (!seen.insert(continuation).second) {
      throw std::runtime_error("the hub repeated a continuation token; stopping");
    }
  }
  if (json_) std::cout << all.dump() << "\n";
  return 0;
}

int ServiceCommands::connection_string() {
  const auto policies = api::read_policies(data_dir_);
  const auto owner = policies.find(std::string(api::SharedAccessPolicies::kOwner));
  const auto& [name, policy] = owner != policies.end() ? *owner : *policies.begin();
  const auto host = hub_host_.empty() ? std::string("localhost") : hub_host_;
  const auto text = api::service_connection_string(host, name, policy);
  if (json_) {
    std::cout << json{{"connectionString", text}}.dump() << "\n";
  } else {
    std::cout << text << "\n";
  }
  return 0;
}

}  // namespace allscene::app
