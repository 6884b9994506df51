// Service authentication as Azure IoT Hub's shared access policies: a
// policy has a name and two base64 keys; a service signs
// `Authorization: SharedAccessSignature sr={host}&sig=…&se=…&skn={policy}`
// with either key. The hub creates one policy, `iothubowner`, at its first
// start and keeps it in DATA_DIR/service-policies.json (mode 0600); every
// policy grants every service right (registry, twins, methods, messages).
//
// Errors: the file functions throw std::runtime_error naming the file;
// check() returns what is wrong instead of throwing.
//
// Thread safety: a SharedAccessPolicies is immutable after construction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace allscene::api {

struct SharedAccessPolicy {
  std::string primary_key, secondary_key;  // base64 of 32 random bytes
};

class SharedAccessPolicies {
 public:
  static constexpr std::string_view kOwner = "iothubowner";

  SharedAccessPolicies() = default;
  // `hub_host`: the host tokens must name (case-insensitive); empty: any.
  SharedAccessPolicies(std::map<std::string, SharedAccessPolicy> policies, std::string hub_host)
      : policies_(std::move(policies)), hub_host_(std::move(hub_host)) {}

  // Whether `token` (the Authorization header's value, starting with
  // "SharedAccessSignature ") is a valid service token at `now_s` (unix
  // seconds): nullopt if so, else the reason, meant for a 401 answer.
  std::optional<std::string> check(std::string_view token, std::int64_t now_s) const;

  const SharedAccessPolicy* find(const std::string& name) const;
  bool empty() const { return policies_.empty(); }
  const std::string& hub_host() const { return hub_host_; }

 private:
  std::map<std::string, SharedAccessPolicy> policies_;
  std::string hub_host_;
};

// DATA_DIR/service-policies.json.
std::filesystem::path policies_path(const std::filesystem::path& data_dir);
// Reads the policies, or first creates the file with `iothubowner` and two
// random keys (mode 0600).
std::map<std::string, SharedAccessPolicy> load_or_create_policies(
    const std::filesystem::path& data_dir);
// Reads the policies; throws if the file is absent or damaged.
std::map<std::string, SharedAccessPolicy> read_policies(const std::filesystem::path& data_dir);

// "HostName={host};SharedAccessKeyName={name};SharedAccessKey={primary}".
std::string service_connection_string(const std::string& host, const std::string& name,
                                      const SharedAccessPolicy& policy);

}  // namespace allscene::api
