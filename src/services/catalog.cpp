#include "services/catalog.hpp"

#include <fmt/format.h>

#include <stdexcept>

#ifdef ALLSCENE_SERVICE_ASSISTANT
#include "services/assistant/assistant_service.hpp"
#endif
#ifdef ALLSCENE_SERVICE_DOCS
#include "services/docs/docs_service.hpp"
#endif
#ifdef ALLSCENE_SERVICE_SPEECH
#include "services/speech/speech_service.hpp"
#endif
#ifdef ALLSCENE_SERVICE_TRANSLATION
#include "services/translation/translation_service.hpp"
#endif
#ifdef ALLSCENE_SERVICE_TRAVEL
#include "services/travel/travel_service.hpp"
#endif

namespace allscene::services {

namespace {

// `make(context)` with the service's own state folder.
template <typename Make>
void add(ServiceHost& host, const std::filesystem::path& state_root, HubAccess& hub,
         const char* name, Make make) {
  try {
    ServiceContext context{state_root / name, &hub};
    std::filesystem::create_directories(context.state_dir);
    host.add(make(std::move(context)));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("the {} service cannot start: {}", name, e.what()));
  }
}

}  // namespace

void add_built_services([[maybe_unused]] ServiceHost& host,
                        [[maybe_unused]] const std::filesystem::path& state_root,
                        [[maybe_unused]] HubAccess& hub) {
#ifdef ALLSCENE_SERVICE_TRANSLATION
  add(host, state_root, hub, "translation",
      [](ServiceContext) { return std::make_unique<translation::TranslationService>(); });
#endif
#ifdef ALLSCENE_SERVICE_SPEECH
  add(host, state_root, hub, "speech",
      [](ServiceContext c) { return std::make_unique<speech::SpeechService>(std::move(c)); });
#endif
#ifdef ALLSCENE_SERVICE_ASSISTANT
  add(host, state_root, hub, "assistant",
      [](ServiceContext c) { return std::make_unique<AssistantService>(std::move(c)); });
#endif
#ifdef ALLSCENE_SERVICE_TRAVEL
  add(host, state_root, hub, "travel",
      [](ServiceContext c) { return std::make_unique<travel::TravelService>(std::move(c)); });
#endif
#ifdef ALLSCENE_SERVICE_DOCS
  add(host, state_root, hub, "docs",
      [](ServiceContext c) { return std::make_unique<docs::DocsService>(std::move(c)); });
#endif
}

}  // namespace allscene::services
