// The "translation" cloud service: Apertium behind services::Service.
//
// Operations (request -> response body; docs/services/translation.md):
//   pairs      {}                                   -> [{"pair","from","to","variant",…}]
//   translate  {"from","to","text"} | {"pair","text"} (+ "variant", "mark_unknown")
//              -> {"text","pair","from","to","unknown":[…],"ms"}
//   batch      {"from","to","texts":[…]} | {"pair","texts":[…]}
//              -> {"texts":[…],"unknown":[[…],…],"pair","from","to","ms"}
// Errors: 400 bad_request | empty_text, 404 unknown_pair | unknown_operation,
// 413 text_too_long | too_many_texts, 503 engine_failed, 504 engine_timeout.
//
// Thread-safety: call() may run on several threads at once (the engine's
// contract). The caller's identity does not matter: every user may
// translate.
#pragma once

#include "services/service.hpp"
#include "services/translation/translation_engine.hpp"

namespace allscene::services::translation {

class TranslationService final : public Service {
 public:
  explicit TranslationService(EngineOptions options = {});

  std::string_view name() const override { return "translation"; }
  std::vector<std::string> operations() const override;
  Reply call(const Caller& caller, std::string_view operation,
             const nlohmann::json& request) override;
  std::chrono::milliseconds deadline(std::string_view operation) const override;

  TranslationEngine& engine() { return engine_; }

 private:
  Reply pairs() const;
  Reply translate(const nlohmann::json& request);
  Reply batch(const nlohmann::json& request);

  TranslationEngine engine_;
};

}  // namespace allscene::services::translation
