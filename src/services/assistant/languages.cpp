#include "services/assistant/languages.hpp"

#include <array>
#include <utility>

namespace allscene::services::assistant {

namespace {

struct Language {
  std::string_view word;
  std::string_view code;
  std::string_view name;
};

constexpr std::array<Language, 16> kLanguages = {{
    {"english", "en", "English"},
    {"spanish", "es", "Spanish"},
    {"castilian", "es", "Spanish"},
    {"french", "fr", "French"},
    {"catalan", "ca", "Catalan"},
    {"valencian", "ca", "Catalan"},
    {"portuguese", "pt", "Portuguese"},
    {"italian", "it", "Italian"},
    {"german", "de", "German"},
    {"galician", "gl", "Galician"},
    {"occitan", "oc", "Occitan"},
    {"esperanto", "eo", "Esperanto"},
    {"romanian", "ro", "Romanian"},
    {"basque", "eu", "Basque"},
    {"dutch", "nl", "Dutch"},
    {"aragonese", "an", "Aragonese"},
}};

}  // namespace

std::optional<std::string> language_code(std::string_view lower_case_name) {
  for (const auto& l : kLanguages) {
    if (l.word == lower_case_name) return std::string(l.code);
  }
  return std::nullopt;
}

std::string language_name(std::string_view code) {
  for (const auto& l : kLanguages) {
    if (l.code == code) return std::string(l.name);
  }
  return std::string(code);
}

}  // namespace allscene::services::assistant
