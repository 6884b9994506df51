// The web console's built files (web/dist, docs/console.md), served under
// /console/: a file by its path, index.html for any other path without an
// extension (the console's own routes), 404 otherwise. Paths never leave
// the console's folder. Hashed assets (assets/…) may be cached for good;
// everything else is revalidated.
//
// Pure function over the file system; any thread.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "api/admin_api.hpp"

namespace allscene::api {

// `segments`: the decoded path after /console/ (empty: the index).
Response console_file(const std::filesystem::path& root, const std::vector<std::string>& segments);

}  // namespace allscene::api
