#include "api/admin_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace allscene::api {
namespace {

std::filesystem::path token_path(const std::filesystem::path& data_dir) {
  return data_dir / "admin.token";
}

// Closes a file descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string new_token() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not initialise");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  const auto variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(sizeof bytes, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, sizeof bytes, variant);
  sodium_memzero(bytes, sizeof bytes);
  out.resize(std::strlen(out.c_str()));
  return out;
}

}  // namespace

std::string read_admin_token(const std::filesystem::path& data_dir) {
  const auto path = token_path(data_dir);
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token) || token.empty()) {
    throw std::runtime_error(fmt::format(
        "cannot read the admin token from {}; restart the hub to create it", path.string()));
  }
  return token;
}

std::string load_or_create_admin_token(const std::filesystem::path& data_dir) {
  const auto path = token_path(data_dir);
  // O_EXCL: created here with mode 0600 from the start, or it exists.
  Fd file{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (file.fd < 0) {
    if (errno == EEXIST) return read_admin_token(data_dir);
    throw std::runtime_error(
        fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  const auto token = new_token();
  const std::string line = token + "\n";
  if (::write(file.fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fsync(file.fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(path.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), why));
  }
  return token;
}

std::filesystem::path AdminAnnouncement::path(const std::filesystem::path& data_dir) {
  return data_dir / "admin.json";
}

void AdminAnnouncement::remove_stale(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::remove(path(data_dir), ec);
}

AdminAnnouncement::AdminAnnouncement(std::filesystem::path data_dir, const std::string& url,
                                     const std::string& cert_file)
    : path_(path(data_dir)) {
  // Written aside and renamed: a reader never sees half a file.
  const auto temporary = data_dir / "admin.json.tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    nlohmann::json j{{"url", url}};
    if (!cert_file.empty()) j["cert_file"] = std::filesystem::absolute(cert_file).string();
    out << j.dump() << "\n";
    if (!out.flush()) {
      throw std::runtime_error(fmt::format("cannot write {}", temporary.string()));
    }
  }
  std::filesystem::rename(temporary, path_);
}

AdminAnnouncement::~AdminAnnouncement() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace allscene::api
