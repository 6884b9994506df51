#include "api/service_auth.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "azure/azure.hpp"

namespace allscene::api {
namespace {

constexpr std::string_view kScheme = "SharedAccessSignature ";

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string random_key() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not initialise");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  auto key = azure::base64_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  sodium_memzero(bytes, sizeof bytes);
  return key;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::optional<std::string> SharedAccessPolicies::check(std::string_view token,
                                                       std::int64_t now_s) const {
  if (!token.starts_with(kScheme)) {
    return "the Authorization header is not a SharedAccessSignature token";
  }
  const auto sas = azure::parse_sas_token(token);
  if (!sas) {
    return "malformed SharedAccessSignature token; give sr, sig, se and skn, each once";
  }
  if (sas->key_name.empty()) {
    return "the token names no policy (skn); sign it with a shared access policy such as "
           "iothubowner";
  }
  const auto* policy = find(sas->key_name);
  if (!policy) {
    return fmt::format(
        "unknown shared access policy \"{}\"; see `allscene service "
        "connection-string`",
        sas->key_name);
  }
  // sr is the hub host, or the host followed by a path within it.
  if (!hub_host_.empty()) {
    const std::string_view resource = sas->resource;
    const auto host = resource.substr(0, resource.find('/'));
    // A port after the host is accepted (services reach a test hub on one).
    const auto colon = host.rfind(':');
    const bool with_port =
        colon != std::string_view::npos && hub_host_.find(':') == std::string::npos;
    if (!iequal(host, hub_host_) && !(with_port && iequal(host.substr(0, colon), hub_host_))) {
      return fmt::format("the token is for \"{}\", not this hub \"{}\"", sas->resource, hub_host_);
    }
  }
  if (sas->expiry <= now_s) return "the token has expired; sign a new one";
  if (!azure::sas_signed_by(*sas, policy->primary_key) &&
      !azure::sas_signed_by(*sas, policy->secondary_key)) {
    return fmt::format("the signature does not match policy \"{}\"'s keys", sas->key_name);
  }
  return std::nullopt;
}

const SharedAccessPolicy* SharedAccessPolicies::find(const std::string& name) const {
  const auto it = policies_.find(name);
  return it == policies_.end() ? nullptr : &it->second;
}

std::filesystem::path policies_path(const std::filesystem::path& data_dir) {
  return data_dir / "service-policies.json";
}

std::map<std::string, SharedAccessPolicy> read_policies(const std::filesystem::path& data_dir) {
  const auto path = policies_path(data_dir);
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(fmt::format(
        "cannot read {}; start the hub once to create the service policies", path.string()));
  }
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  std::map<std::string, SharedAccessPolicy> out;
  const auto damaged = [&] {
    return std::runtime_error(
        fmt::format("{} is damaged; stop the hub, delete it and start the hub to create new keys",
                    path.string()));
  };
  if (!j.is_object()) throw damaged();
  for (const auto& [name, p] : j.items()) {
    if (!p.is_object() || !p.contains("primaryKey") || !p["primaryKey"].is_string() ||
        !p.contains("secondaryKey") || !p["secondaryKey"].is_string()) {
      throw damaged();
    }
    out[name] = {p["primaryKey"].get<std::string>(), p["secondaryKey"].get<std::string>()};
  }
  if (out.empty()) throw damaged();
  return out;
}

std::map<std::string, SharedAccessPolicy> load_or_create_policies(
    const std::filesystem::path& data_dir) {
  const auto path = policies_path(data_dir);
  // O_EXCL: created here with mode 0600 from the start, or it exists.
  Fd file{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (file.fd < 0) {
    if (errno == EEXIST) return read_policies(data_dir);
    throw std::runtime_error(
        fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  const SharedAccessPolicy owner{random_key(), random_key()};
  const std::string text =
      nlohmann::json{{std::string(SharedAccessPolicies::kOwner),
                      {{"primaryKey", owner.primary_key}, {"secondaryKey", owner.secondary_key}}}}
          .dump(2) +
      "\n";
  if (::write(file.fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(file.fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(path.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), why));
  }
  return {{std::string(SharedAccessPolicies::kOwner), owner}};
}

std::string service_connection_string(const std::string& host, const std::string& name,
                                      const SharedAccessPolicy& policy) {
  return fmt::format("HostName={};SharedAccessKeyName={};SharedAccessKey={}", host, name,
                     policy.primary_key);
}

}  // namespace allscene::api
