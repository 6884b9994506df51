#include "backend.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "twin/twin_service.hpp"

namespace allscene::app {

using nlohmann::json;

namespace {

store::StoreOptions store_options(const std::string& data_dir) {
  store::StoreOptions o;
  o.path = std::filesystem::path(data_dir) / "allscene.db";
  return o;
}

// With the hub stopped no device is connected: nothing reaches one.
class NoDevices final : public twin::DeviceLink {
 public:
  void send_to_device(const std::string&, std::string, std::string, Done done) override {
    if (done) done(false);
  }
  void route(Routed, Done done) override {
    if (done) done(false);
  }
};

}  // namespace

OpenRegistry::OpenRegistry(const std::string& data_dir)
    : documents(store_options(data_dir)), storage(documents), registry(storage) {
  registry.load();
}

struct Backend::Local {
  explicit Local(const std::string& data_dir)
      : open(data_dir),
        twins(open.registry, open.storage, link),
        api(open.registry, open.storage, {}, api::ServiceSettings{&twins, "service"}) {}
  OpenRegistry open;
  NoDevices link;
  twin::TwinService twins;
  api::AdminApi api;
};

Backend::Backend(const std::string& data_dir)
    : data_dir_(data_dir), remote_(AdminClient::for_data_dir(data_dir)) {}

Backend::~Backend() = default;

void Backend::require_hub(const std::string& what) const {
  if (remote_) return;
  if (hub_running(data_dir_)) {
    throw std::runtime_error(fmt::format(
        "the hub on {} serves no HTTP endpoint ([http] bind off, or its port was taken), so it "
        "cannot {}; restart it with --http 127.0.0.1:8080",
        data_dir_, what));
  }
  throw std::runtime_error(
      fmt::format("the hub is not running: start it with `allscene hub --data-dir {}`; only a "
                  "running hub can {}",
                  data_dir_, what));
}

api::AdminApi& Backend::local() {
  if (!local_) local_ = std::make_unique<Local>(data_dir_);
  return local_->api;
}

api::Response Backend::send(api::Request request, std::chrono::seconds timeout) {
  return remote_ ? remote_->send(request, timeout) : local().handle(request);
}

json Backend::json_of(const api::Response& response) {
  if (response.status >= 400) {
    const auto j = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    throw registry::RegistryError(
        j.is_object() && j.contains("error") && j["error"].is_string()
            ? j["error"].get<std::string>()
            : fmt::format("the hub answered {}: {}", response.status, response.body));
  }
  if (response.status == 204) return nullptr;
  const auto j = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw std::runtime_error(
        fmt::format("the hub answered {} with a body that is not JSON", response.status));
  }
  return j;
}

json Backend::call(std::string method, std::string target, const json& body) {
  return json_of(send(
      {std::move(method), std::move(target), body.is_null() ? std::string() : body.dump(), {}}));
}

}  // namespace allscene::app
