#include "cloud_commands.hpp"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "azure/azure.hpp"
#include "backend.hpp"
#include "registry/model.hpp"

namespace allscene::app {

namespace {

using nlohmann::json;

void common_options(CLI::App* c, std::string& data_dir, bool& json_flag) {
  c->add_option("--data-dir", data_dir, "The running hub's data directory")->default_str(data_dir);
  c->add_flag("--json", json_flag, "Print the answer as compact JSON, for scripts");
}

void user_option(CLI::App* c, std::string& user) {
  c->add_option("--user", user, "The user the request acts for (whose devices and data)");
}

}  // namespace

CloudCommands::CloudCommands(CLI::App& app) {
  services_ = app.add_subcommand(
      "services", "Cloud services on the hub (translation, assistant, travel, docs, speech)");
  common_options(services_, data_dir_, json_);
  call_ = services_->add_subcommand(
      "call", "Run one operation of a service, e.g. services call travel day '{}' --user ana");
  common_options(call_, data_dir_, json_);
  user_option(call_, user_);
  call_->add_option("service", service_, "Service name")->required();
  call_->add_option("operation", operation_, "Operation name")->required();
  call_->add_option("request", request_, "The request: a JSON object (default {})");

  translate_ = app.add_subcommand("translate", "Translate text with the hub's Apertium pairs");
  common_options(translate_, data_dir_, json_);
  translate_->add_option("text", text_, "The text")->required();
  translate_->add_option("--from", from_, "Source language (en, es, ca, fr, …)")
      ->default_str(from_);
  translate_->add_option("--to", to_, "Target language")->required();

  ask_ = app.add_subcommand(
      "ask", "Ask the assistant, e.g. ask \"ring my watch\" --user ana (acts on their devices)");
  common_options(ask_, data_dir_, json_);
  user_option(ask_, user_);
  ask_->add_option("text", text_, "The request, in English")->required();
}

bool CloudCommands::chosen() const {
  return services_->parsed() || translate_->parsed() || ask_->parsed();
}

int CloudCommands::run() {
  try {
    Backend backend(data_dir_);
    backend.require_hub("use the cloud services");
    if (call_->parsed()) return call(backend, service_, operation_, request_, false);
    if (services_->parsed()) return list(backend);
    if (translate_->parsed()) {
      const json request{{"from", from_}, {"to", to_}, {"text", text_}};
      return call(backend, "translation", "translate", request.dump(), true);
    }
    if (user_.empty()) throw registry::RegistryError("name the user to act for: --user ID");
    return call(backend, "assistant", "ask", json{{"text", text_}}.dump(), true);
  } catch (const std::exception& e) {
    std::cerr << "allscene: " << e.what() << "\n";
    return 1;
  }
}

int CloudCommands::list(Backend& backend) {
  const json services = backend.call("GET", "/api/v1/services");
  if (json_) {
    std::cout << services.dump() << "\n";
    return 0;
  }
  for (const auto& s : services) {
    std::cout << s.value("name", "") << ": ";
    const auto& ops = s["operations"];
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::cout << (i ? ", " : "") << ops[i].get<std::string>();
    }
    std::cout << "\n";
  }
  return 0;
}

int CloudCommands::call(Backend& backend, const std::string& service, const std::string& operation,
                        const std::string& request, bool text_answer) {
  if (!request.empty()) {
    const json parsed = json::parse(request, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      throw registry::RegistryError(fmt::format(
          "the request must be a JSON object, such as '{{\"text\": \"hi\"}}'; got {}", request));
    }
  }
  std::string target = fmt::format("/api/v1/services/{}/{}", azure::url_encode(service),
                                   azure::url_encode(operation));
  if (!user_.empty()) target += "?user=" + azure::url_encode(user_);
  const auto response = backend.send({"POST", target, request.empty() ? "{}" : request, {}},
                                     std::chrono::seconds(120));
  const json answer = json::parse(response.body, nullptr, false);
  if (response.status >= 400) {
    const std::string message = answer.is_object()
                                    ? answer.value("message", answer.value("error", response.body))
                                    : response.body;
    std::cerr << "allscene: " << service << "/" << operation << " refused (" << response.status
              << "): " << message << "\n";
    return 1;
  }
  if (json_ || !text_answer || !answer.is_object()) {
    std::cout << (json_ ? answer.dump() : answer.dump(2)) << "\n";
    return 0;
  }
  // translate: the text; ask: the answer (or the question it asks back).
  const std::string text = answer.contains("text")
                               ? answer.value("text", "")
                               : answer.value("question", answer.value("answer", answer.dump()));
  std::cout << text << "\n";
  return 0;
}

}  // namespace allscene::app
