#include "services/translation/pair_catalog.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <system_error>

#include "log/module_log.hpp"

namespace allscene::services::translation {
namespace {

bool looks_like_language_code(std::string_view code) {
  return code.size() >= 2 && code.size() <= 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "eco-fr-es" -> variant "eco", "fr", "es"; "eng-cat_valencia" -> "eng",
// "cat", variant "valencia". Names that are not translation directions
// (debug modes like "eng-spa-morph") give nullopt.
std::optional<PairInfo> parse_mode_name(std::string_view name, const LanguageCodes& codes) {
  auto parts = split(name, '-');
  if (parts.size() < 2) return std::nullopt;
  std::string_view from = parts[parts.size() - 2];
  std::string_view to = parts.back();
  std::string variant;
  for (size_t i = 0; i + 2 < parts.size(); ++i) {
    if (!variant.empty()) variant += '-';
    variant += parts[i];
  }
  if (auto underscore = to.find('_'); underscore != std::string_view::npos) {
    if (!variant.empty()) variant += '-';
    variant += to.substr(underscore + 1);
    to = to.substr(0, underscore);
  }
  if (!looks_like_language_code(from) || !looks_like_language_code(to)) return std::nullopt;
  PairInfo pair;
  pair.name = std::string(name);
  pair.from = codes.canonical(from);
  pair.to = codes.canonical(to);
  pair.from_label = codes.display(from);
  pair.to_label = codes.display(to);
  pair.variant = std::move(variant);
  return pair;
}

}  // namespace

PairCatalog::PairCatalog(const std::filesystem::path& modes_dir,
                         const std::filesystem::path& iso_codes_file)
    : codes_(iso_codes_file) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(modes_dir, ec)) {
    if (entry.path().extension() != ".mode") continue;
    auto pair = parse_mode_name(entry.path().stem().string(), codes_);
    if (!pair) continue;
    pair->mode_file = entry.path();
    pairs_.push_back(std::move(*pair));
  }
  if (ec) {
    module_log().warn("translation: cannot read Apertium modes in {}: {}", modes_dir.string(),
                      ec.message());
  }
  std::sort(pairs_.begin(), pairs_.end(),
            [](const PairInfo& a, const PairInfo& b) { return a.name < b.name; });
}

const PairInfo* PairCatalog::by_name(std::string_view name) const {
  auto it = std::find_if(pairs_.begin(), pairs_.end(),
                         [&](const PairInfo& pair) { return pair.name == name; });
  return it == pairs_.end() ? nullptr : &*it;
}

const PairInfo* PairCatalog::find(std::string_view from, std::string_view to,
                                  std::string_view variant) const {
  const std::string source = codes_.canonical(from);
  const std::string target = codes_.canonical(to);
  const PairInfo* fallback = nullptr;
  for (const auto& pair : pairs_) {
    if (pair.from != source || pair.to != target) continue;
    if (pair.variant == variant) return &pair;
    // With no variant asked and no default installed, any variant will do.
    if (variant.empty() && fallback == nullptr) fallback = &pair;
  }
  return fallback;
}

std::string PairCatalog::names() const {
  std::vector<std::string_view> names;
  for (const auto& pair : pairs_) names.push_back(pair.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace allscene::services::translation
