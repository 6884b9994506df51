#include "services/translation/translation_service.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <variant>

namespace allscene::services::translation {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

Reply bad_request(std::string message) {
  return Reply::error(400, "bad_request", std::move(message));
}

// The pair a request names, or the error to answer.
using PairOrReply = std::variant<const PairInfo*, Reply>;

Reply unknown_pair(const PairCatalog& catalog, const std::string& wanted) {
  return Reply::error(
      404, "unknown_pair",
      fmt::format("no installed Apertium pair translates {}; installed: {}. Use one of these, or "
                  "install the pair (apt-get install apertium-<from>-<to>) and restart the hub",
                  wanted, catalog.pairs().empty() ? "none" : catalog.names()));
}

std::optional<std::string> optional_string(const Json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A pair named like "en-es" (or "eng-cat_valencia"), by its languages.
const PairInfo* find_by_languages(const PairCatalog& catalog, const std::string& name) {
  auto dash = name.rfind('-');
  if (dash == std::string::npos) return nullptr;
  std::string to = name.substr(dash + 1);
  std::string variant;
  if (auto underscore = to.find('_'); underscore != std::string::npos) {
    variant = to.substr(underscore + 1);
    to.resize(underscore);
  }
  return catalog.find(name.substr(0, dash), to, variant);
}

PairOrReply resolve_pair(const PairCatalog& catalog, const Json& request) {
  for (const char* field : {"pair", "from", "to", "variant"}) {
    if (request.contains(field) && !request[field].is_string()) {
      return bad_request(fmt::format("\"{}\" must be a string", field));
    }
  }
  if (auto name = optional_string(request, "pair")) {
    if (const auto* pair = catalog.by_name(*name)) return pair;
    if (const auto* pair = find_by_languages(catalog, *name)) return pair;
    return unknown_pair(catalog, fmt::format("\"{}\"", *name));
  }
  auto from = optional_string(request, "from");
  auto to = optional_string(request, "to");
  if (!from || !to || from->empty() || to->empty()) {
    return bad_request(
        "name the languages with \"from\" and \"to\" (ISO 639 codes such as \"en\", \"es\") or "
        "the pair with \"pair\" (see the pairs operation)");
  }
  auto variant = optional_string(request, "variant").value_or("");
  if (const auto* pair = catalog.find(*from, *to, variant)) return pair;
  return unknown_pair(
      catalog, fmt::format("{} -> {}{}", *from, *to, variant.empty() ? "" : " (" + variant + ")"));
}

std::variant<bool, Reply> mark_unknown_option(const Json& request) {
  auto it = request.find("mark_unknown");
  if (it == request.end()) return false;
  if (!it->is_boolean()) return bad_request("\"mark_unknown\" must be true or false");
  return it->get<bool>();
}

Reply failure_reply(const TranslateResult& result) {
  switch (result.failure) {
    case Failure::empty_text:
      return Reply::error(400, "empty_text", result.message);
    case Failure::bad_text:
      return bad_request(result.message);
    case Failure::text_too_long:
      return Reply::error(413, "text_too_long", result.message);
    case Failure::too_many_texts:
      return Reply::error(413, "too_many_texts", result.message);
    case Failure::engine_timeout:
      return Reply::error(504, "engine_timeout", result.message);
    case Failure::engine_failed:
    case Failure::none:
      break;
  }
  return Reply::error(503, "engine_failed", result.message);
}

Json describe(const PairInfo& pair) {
  return {{"pair", pair.name},          {"from", pair.from_label}, {"to", pair.to_label},
          {"from_iso639_3", pair.from}, {"to_iso639_3", pair.to},  {"variant", pair.variant}};
}

void add_pair_fields(Json& body, const PairInfo& pair, Clock::time_point started) {
  body["pair"] = pair.name;
  body["from"] = pair.from_label;
  body["to"] = pair.to_label;
  body["ms"] = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
}

// The pair, the mark_unknown flag and the texts of a translate or batch
// request, or the reply refusing it.
struct Parsed {
  const PairInfo* pair = nullptr;
  bool mark_unknown = false;
  std::vector<std::string> texts;
};

std::variant<Parsed, Reply> parse(const PairCatalog& catalog, const Json& request, bool batch) {
  if (!request.is_object()) return bad_request("the request must be a JSON object");
  Parsed parsed;
  const char* field = batch ? "texts" : "text";
  auto it = request.find(field);
  if (it == request.end()) return bad_request(fmt::format("\"{}\" is missing", field));
  if (batch) {
    if (!it->is_array()) return bad_request("\"texts\" must be an array of strings");
    for (const auto& text : *it) {
      if (!text.is_string()) return bad_request("\"texts\" must be an array of strings");
      parsed.texts.push_back(text.get<std::string>());
    }
  } else {
    if (!it->is_string()) return bad_request("\"text\" must be a string");
    parsed.texts.push_back(it->get<std::string>());
  }
  auto mark = mark_unknown_option(request);
  if (auto* reply = std::get_if<Reply>(&mark)) return std::move(*reply);
  parsed.mark_unknown = std::get<bool>(mark);
  auto pair = resolve_pair(catalog, request);
  if (auto* reply = std::get_if<Reply>(&pair)) return std::move(*reply);
  parsed.pair = std::get<const PairInfo*>(pair);
  return parsed;
}

}  // namespace

TranslationService::TranslationService(EngineOptions options) : engine_(std::move(options)) {}

std::vector<std::string> TranslationService::operations() const {
  return {"pairs", "translate", "batch"};
}

std::chrono::milliseconds TranslationService::deadline(std::string_view /*operation*/) const {
  // The engine gives up (and restarts the pipeline) first, so callers get
  // its engine_timeout rather than the host's bare 504.
  return engine_.options().request_timeout + std::chrono::seconds(2);
}

Reply TranslationService::call(const Caller& /*caller*/, std::string_view operation,
                               const nlohmann::json& request) {
  if (operation == "pairs") return pairs();
  if (operation == "translate") return translate(request);
  if (operation == "batch") return batch(request);
  return Reply::error(404, "unknown_operation",
                      fmt::format("translation has no operation \"{}\"; use pairs, translate or "
                                  "batch",
                                  operation));
}

Reply TranslationService::pairs() const {
  Json list = Json::array();
  for (const auto& pair : engine_.catalog().pairs()) list.push_back(describe(pair));
  return Reply::success(std::move(list));
}

Reply TranslationService::translate(const nlohmann::json& request) {
  const auto started = Clock::now();
  auto parsed = parse(engine_.catalog(), request, /*batch=*/false);
  if (auto* reply = std::get_if<Reply>(&parsed)) return std::move(*reply);
  const auto& [pair, mark_unknown, texts] = std::get<Parsed>(parsed);
  auto result = engine_.translate(*pair, texts, mark_unknown);
  if (!result.ok()) return failure_reply(result);
  auto& translation = result.translations.front();
  Json body{{"text", std::move(translation.text)}, {"unknown", std::move(translation.unknown)}};
  add_pair_fields(body, *pair, started);
  return Reply::success(std::move(body));
}

Reply TranslationService::batch(const nlohmann::json& request) {
  const auto started = Clock::now();
  auto parsed = parse(engine_.catalog(), request, /*batch=*/true);
  if (auto* reply = std::get_if<Reply>(&parsed)) return std::move(*reply);
  const auto& [pair, mark_unknown, texts] = std::get<Parsed>(parsed);
  auto result = engine_.translate(*pair, texts, mark_unknown);
  if (!result.ok()) return failure_reply(result);
  Json translated = Json::array();
  Json unknown = Json::array();
  for (auto& translation : result.translations) {
    translated.push_back(std::move(translation.text));
    unknown.push_back(std::move(translation.unknown));
  }
  Json body{{"texts", std::move(translated)}, {"unknown", std::move(unknown)}};
  add_pair_fields(body, *pair, started);
  return Reply::success(std::move(body));
}

}  // namespace allscene::services::translation
