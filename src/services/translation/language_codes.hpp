// ISO 639 language codes as Apertium pairs and callers spell them: a pair
// may name its languages with ISO 639-1 ("fr") or 639-3 ("eng") codes and a
// caller may use either, so both sides are compared by their 639-3 code.
// The table comes from Debian's iso-codes package (iso_639-3.json).
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

namespace allscene::services::translation {

inline constexpr std::string_view kDefaultIsoCodesFile = "/usr/share/iso-codes/json/iso_639-3.json";

class LanguageCodes {
 public:
  // Loads the iso-codes table; a missing or unreadable file leaves the
  // table empty (codes then match only as spelt) and logs a warning.
  explicit LanguageCodes(const std::filesystem::path& iso_639_3_json);

  // The 639-3 code of `code` ("en", "eng", "fre" -> "fra"); unknown codes
  // come back lower-cased as given.
  std::string canonical(std::string_view code) const;
  // The shortest code for display: 639-1 when the language has one.
  std::string display(std::string_view code) const;
  bool loaded() const { return !to_alpha3_.empty(); }

 private:
  std::unordered_map<std::string, std::string> to_alpha3_;  // 639-1, 639-2/B, 639-3 -> 639-3
  std::unordered_map<std::string, std::string> to_alpha2_;  // 639-3 -> 639-1
};

}  // namespace allscene::services::translation
