#include "services/translation/language_codes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "log/module_log.hpp"

namespace allscene::services::translation {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

LanguageCodes::LanguageCodes(const std::filesystem::path& iso_639_3_json) {
  // The table is 850 KB; read it at once (the stream adapter parses byte by
  // byte, several times slower). A parser callback that drops the names
  // looks cheaper but is ten times slower in Debug/ASan builds.
  std::ifstream in(iso_639_3_json, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto table = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in || table.is_discarded() || !table.contains("639-3")) {
    module_log().warn(
        "translation: no ISO 639 table at {} (Debian package iso-codes); language codes "
        "match only as the Apertium pairs spell them",
        iso_639_3_json.string());
    return;
  }
  for (const auto& language : table["639-3"]) {
    const std::string alpha3 = language.value("alpha_3", "");
    if (alpha3.empty()) continue;
    to_alpha3_[alpha3] = alpha3;
    if (auto alpha2 = language.value("alpha_2", ""); !alpha2.empty()) {
      to_alpha3_[alpha2] = alpha3;
      to_alpha2_[alpha3] = alpha2;
    }
    if (auto bibliographic = language.value("bibliographic", ""); !bibliographic.empty()) {
      to_alpha3_.emplace(bibliographic, alpha3);
    }
  }
}

std::string LanguageCodes::canonical(std::string_view code) const {
  std::string key = lower(code);
  auto it = to_alpha3_.find(key);
  return it == to_alpha3_.end() ? key : it->second;
}

std::string LanguageCodes::display(std::string_view code) const {
  std::string alpha3 = canonical(code);
  auto it = to_alpha2_.find(alpha3);
  return it == to_alpha2_.end() ? alpha3 : it->second;
}

}  // namespace allscene::services::translation
