// The Apertium language pairs installed on this machine, found once from
// the modes directory (/usr/share/apertium/modes/*.mode): a mode named
// "eng-spa" translates eng -> spa; "eng-cat_valencia" is the valencia
// variant of eng -> cat; "eco-fr-es" is the "eco" variant of fr -> es.
// Newly installed pairs appear when the hub (the catalog) starts again.
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "services/translation/language_codes.hpp"

namespace allscene::services::translation {

inline constexpr std::string_view kDefaultModesDir = "/usr/share/apertium/modes";

struct PairInfo {
  std::string name;        // the mode's name: "eng-spa", "eng-cat_valencia"
  std::string from;        // ISO 639-3 of the source language: "eng", "fra"
  std::string to;          // ISO 639-3 of the target language
  std::string from_label;  // shortest code for display: "en", "fr"
  std::string to_label;
  std::string variant;  // "" for the pair's default translation
  std::filesystem::path mode_file;
};

class PairCatalog {
 public:
  // Reads the directory's *.mode names; a missing directory gives an empty
  // catalog (logged), never an exception.
  PairCatalog(const std::filesystem::path& modes_dir, const std::filesystem::path& iso_codes_file);

  // Sorted by name.
  const std::vector<PairInfo>& pairs() const { return pairs_; }
  const LanguageCodes& codes() const { return codes_; }

  // The pair a caller means: by mode name ("eng-spa"), or by languages in
  // either ISO 639 spelling ("en" -> "es"); with no variant asked, the
  // pair's default (no variant) wins. nullptr if nothing is installed.
  const PairInfo* by_name(std::string_view name) const;
  const PairInfo* find(std::string_view from, std::string_view to,
                       std::string_view variant = {}) const;
  // "eng-cat, eng-spa, …" for error messages.
  std::string names() const;

 private:
  LanguageCodes codes_;
  std::vector<PairInfo> pairs_;
};

}  // namespace allscene::services::translation
