// Language names as users say them, and the ISO 639-1 codes the
// translation service takes. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace allscene::services::assistant {

// "spanish" → "es"; nullopt for a word that is not a language name.
std::optional<std::string> language_code(std::string_view lower_case_name);
// "es" → "Spanish"; the code itself if unknown.
std::string language_name(std::string_view code);

}  // namespace allscene::services::assistant
