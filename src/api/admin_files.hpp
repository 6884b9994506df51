// The files through which local tools find a running hub's admin endpoint:
// DATA_DIR/admin.token (the bearer token, mode 0600, kept across restarts)
// and DATA_DIR/admin.json ({"url": "http://127.0.0.1:PORT"}, only while the
// endpoint serves; with HTTPS {"url": "https://…", "cert_file": "/abs/path"}
// so that local tools can trust the hub's certificate). Errors throw
// std::runtime_error naming the file.
#pragma once

#include <filesystem>
#include <string>

namespace allscene::api {

// Reads DATA_DIR/admin.token, or creates it first: 32 random bytes,
// base64url without padding, mode 0600.
std::string load_or_create_admin_token(const std::filesystem::path& data_dir);

// Reads DATA_DIR/admin.token; throws if it is absent or empty.
std::string read_admin_token(const std::filesystem::path& data_dir);

// Writes DATA_DIR/admin.json on construction and removes it on destruction.
class AdminAnnouncement {
 public:
  // `cert_file`: the HTTPS certificate (empty for plain HTTP).
  AdminAnnouncement(std::filesystem::path data_dir, const std::string& url,
                    const std::string& cert_file = {});
  ~AdminAnnouncement();
  AdminAnnouncement(const AdminAnnouncement&) = delete;
  AdminAnnouncement& operator=(const AdminAnnouncement&) = delete;

  static std::filesystem::path path(const std::filesystem::path& data_dir);
  // Removes a file a crashed hub left behind.
  static void remove_stale(const std::filesystem::path& data_dir);

 private:
  std::filesystem::path path_;
};

}  // namespace allscene::api
