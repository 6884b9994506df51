// Where the CLI's requests go: the running hub's endpoint (admin_client.hpp)
// or, when the data directory's hub is stopped or serves no endpoint, the
// same API in-process on the data directory, so output and exit codes are
// the same either way.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "admin_client.hpp"
#include "api/admin_api.hpp"
#include "hub/registry_storage.hpp"
#include "registry/registry.hpp"
#include "store/document_store.hpp"

namespace allscene::app {

// The registry of a data directory, opened for one command.
struct OpenRegistry {
  explicit OpenRegistry(const std::string& data_dir);
  store::DocumentStore documents;
  hub::DocumentRegistryStorage storage;
  registry::Registry registry;
};

class Backend {
 public:
  explicit Backend(const std::string& data_dir);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // Whether requests go to a running hub.
  bool remote() const { return remote_.has_value(); }
  // Throws std::runtime_error saying how to start the hub unless remote().
  void require_hub(const std::string& what) const;

  // The answer as it is (any status).
  api::Response send(api::Request request, std::chrono::seconds timeout = std::chrono::seconds(30));
  // The answer's JSON (null for 204); a refusal throws registry::RegistryError
  // with the API's message.
  nlohmann::json call(std::string method, std::string target, const nlohmann::json& body = nullptr);
  // The JSON of a successful answer, or the RegistryError of a refusal.
  static nlohmann::json json_of(const api::Response& response);

 private:
  struct Local;
  api::AdminApi& local();

  std::string data_dir_;
  std::optional<AdminClient> remote_;
  std::unique_ptr<Local> local_;
};

}  // namespace allscene::app
