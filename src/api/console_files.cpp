#include "api/console_files.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <string_view>

#include "api/api_util.hpp"

namespace allscene::api {
namespace {

namespace fs = std::filesystem;

std::string content_type_of(const fs::path& file) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"}};
  const auto ext = file.extension().string();
  for (const auto& [suffix, type] : kTypes) {
    if (ext == suffix) return std::string(type);
  }
  return "application/octet-stream";
}

// A segment that could leave the folder, or name something odd, is refused.
bool safe_segment(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

Response file_response(const fs::path& file, bool immutable) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return detail::error_response(500, fmt::format("cannot read {}", file.string()));
  Response r{200, std::string(std::istreambuf_iterator<char>(in), {}), content_type_of(file), {}};
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (file.extension() == ".html") {
    // Only the hub's own scripts and API; recorded and spoken audio are blobs.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data: blob:; "
                           "media-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                           "connect-src 'self'; frame-ancestors 'none'");
  }
  return r;
}

}  // namespace

Response console_file(const fs::path& root, const std::vector<std::string>& segments) {
  const fs::path index = root / "index.html";
  std::error_code ec;
  if (root.empty() || !fs::is_regular_file(index, ec)) {
    return detail::error_response(
        404, fmt::format("the console is not built in {}: run scripts/console, or point "
                         "[http] console_dir (--console-dir) at a built console",
                         root.empty() ? std::string("(no console_dir)") : root.string()));
  }
  fs::path file = root;
  for (const auto& s : segments) {
    if (!safe_segment(s)) return detail::error_response(404, "no such file in the console");
    file /= s;
  }
  if (!segments.empty() && fs::is_regular_file(file, ec)) {
    return file_response(file, segments.size() > 1 && segments.front() == "assets");
  }
  if (segments.empty() || !fs::path(segments.back()).has_extension()) {
    return file_response(index, false);  // one of the console's own pages
  }
  return detail::error_response(404, fmt::format("no file {} in the console", file.string()));
}

}  // namespace allscene::api
