#include "services/travel/travel_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "log/module_log.hpp"
#include "services/travel/confirmation_parser.hpp"
#include "services/travel/places.hpp"
#include "services/travel/reminder_rules.hpp"

namespace allscene::services::travel {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxConfirmationBytes = 64 * 1024;
constexpr std::size_t kMaxReminderText = 500;
constexpr std::size_t kMaxItemsPerConfirmation = 50;
constexpr std::size_t kMaxProblemsShown = 5;

// Useful to a traveller anywhere; translated on demand, never stored.
const std::vector<std::string> kPhrases = {
    "Hello.",
    "Thank you.",
    "Excuse me.",
    "Do you speak English?",
    "I do not understand.",
    "How much does this cost?",
    "Where is the train station?",
    "Where is the toilet?",
    "The bill, please.",
    "I need a doctor.",
    "Please help me.",
};

Reply bad_request(std::string message) {
  return Reply::error(400, "bad_request", std::move(message));
}

Reply not_found(const std::string& what, const std::string& id) {
  return Reply::error(404, "not_found",
                      fmt::format("you have no {} '{}'; list yours with travel/{}", what, id,
                                  what == "reminder" ? "reminders" : "list"));
}

// The string field `name` of `request`; "" when absent, nullopt when not a
// string.
std::optional<std::string> optional_text(const json& request, const char* name) {
  const auto it = request.find(name);
  if (it == request.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

json reminder_json(const Reminder& r, const std::vector<Delivery>& deliveries) {
  json targets = json::array();
  for (const auto& d : deliveries) {
    targets.push_back({{"target", d.target}, {"delivered", d.done}, {"outcome", d.outcome}});
  }
  json out{{"id", r.id},
           {"kind", r.kind},
           {"title", r.title},
           {"body", r.body},
           {"due", format_iso(r.due, r.zone)},
           {"state", std::string(to_string(r.state))},
           {"deliveries", std::move(targets)}};
  if (!r.item_id.empty()) out["item"] = r.item_id;
  return out;
}

}  // namespace

TravelService::TravelService(ServiceContext ctx, std::shared_ptr<const Clock> clock,
                             SchedulerOptions options)
    : hub_(ctx.hub),
      clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()),
      random_(std::random_device{}()) {
  if (!hub_) throw std::runtime_error("travel: the service needs the hub (ServiceContext::hub)");
  store_ = std::make_unique<TravelStore>(ctx.state_dir / "travel.db");
  scheduler_ = std::make_unique<ReminderScheduler>(*store_, *hub_, *clock_, options);
}

TravelService::~TravelService() { scheduler_.reset(); }

std::vector<std::string> TravelService::operations() const {
  return {"add", "parse", "list", "remove", "day", "next_flight", "remind", "reminders", "phrases"};
}

std::chrono::milliseconds TravelService::deadline(std::string_view operation) const {
  return operation == "phrases" ? std::chrono::seconds(30) : std::chrono::seconds(10);
}

Reply TravelService::call(const Caller& caller, std::string_view operation, const json& request) {
  if (caller.user.empty()) {
    return Reply::error(400, "no_user", "the travel service acts for a user; sign in as one");
  }
  if (!request.is_object() && !request.is_null()) {
    return bad_request("the request must be a JSON object");
  }
  const json& body = request.is_null() ? json::object() : request;
  if (operation == "add") return add(caller, body);
  if (operation == "parse") return parse(caller, body);
  if (operation == "list") return list(caller);
  if (operation == "remove") return remove(caller, body);
  if (operation == "day") return day(caller, body);
  if (operation == "next_flight") return next_flight(caller);
  if (operation == "remind") return remind(caller, body);
  if (operation == "reminders") return reminders(caller);
  if (operation == "phrases") return phrases(caller, body);
  return Reply::error(404, "unknown_operation",
                      fmt::format("travel has no operation '{}'; it has {}", operation,
                                  fmt::join(operations(), ", ")));
}

std::string TravelService::new_id(char prefix) {
  std::lock_guard lock(random_mutex_);
  return fmt::format("{}{:016x}", prefix, random_());
}

std::optional<json> TravelService::store_item(const std::string& user, Item item) {
  const auto reminders = reminders_for(user, item, clock_->now());
  if (!store_->add_item(user, item.id, item.start.utc.time_since_epoch().count(), item.fields,
                        reminders)) {
    return std::nullopt;
  }
  json answer = to_json(item);
  json ids = json::array();
  for (const auto& r : reminders) ids.push_back(r.id);
  answer["reminders"] = std::move(ids);
  return answer;
}

std::vector<Item> TravelService::load_items(const std::string& user) {
  std::vector<Item> items;
  for (const auto& stored : store_->items(user)) {
    auto made = make_item(stored.fields, stored.id);
    if (made.item) {
      items.push_back(std::move(*made.item));
    } else {
      module_log().warn("travel: stored item {} no longer reads: {}", stored.id,
                        made.error.body.dump());
    }
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.start.utc < b.start.utc; });
  return items;
}

Reply TravelService::add(const Caller& caller, const json& request) {
  const auto it = request.find("item");
  if (it == request.end() || !it->is_object()) {
    return bad_request("give the item as {\"item\": {\"kind\": \"flight\", …}}");
  }
  auto made = make_item(*it, new_id('t'));
  if (!made.item) return made.error;
  const std::string id = made.item->id;
  auto answer = store_item(caller.user, std::move(*made.item));
  if (!answer) return Reply::error(503, "store_failed", "could not save the item; try again");
  return Reply::success({{"id", id}, {"item", std::move(*answer)}});
}

Reply TravelService::parse(const Caller& caller, const json& request) {
  const auto text = optional_text(request, "text");
  if (!text || text->empty()) return bad_request("give the confirmation as {\"text\": \"…\"}");
  if (text->size() > kMaxConfirmationBytes) {
    return Reply::error(413, "too_large", "a confirmation may have at most 64 KiB of text");
  }
  const auto dry_run = request.value("dry_run", false);
  auto parsed = parse_confirmation(*text);
  std::vector<Item> items;
  for (const auto& candidate : parsed.items) {
    auto made = make_item(candidate, new_id('t'));
    if (made.item) {
      items.push_back(std::move(*made.item));
    } else {
      parsed.problems.push_back(made.error.body.value("message", std::string()));
    }
  }
  if (items.size() > kMaxItemsPerConfirmation) {
    return Reply::error(413, "too_many_items",
                        fmt::format("the text holds {} items; parse at most {} at a time",
                                    items.size(), kMaxItemsPerConfirmation));
  }
  if (parsed.problems.size() > kMaxProblemsShown) parsed.problems.resize(kMaxProblemsShown);
  if (items.empty() || !parsed.problems.empty()) {
    auto reply = Reply::error(
        422, "unparseable",
        parsed.problems.empty()
            ? "found no flight, train, hotel stay or event; a confirmation needs e.g. a flight "
              "number (AF 1234), airports and times, or Check-in:/Check-out: dates; add the item "
              "with travel/add instead"
            : fmt::format("{}; nothing was added (fix the text or add the items with travel/add)",
                          fmt::join(parsed.problems, "; ")));
    reply.body["missing"] = parsed.problems;
    return reply;
  }
  json out = json::array();
  for (auto& item : items) {
    if (dry_run) {
      out.push_back(to_json(item));
      continue;
    }
    auto answer = store_item(caller.user, std::move(item));
    if (!answer) return Reply::error(503, "store_failed", "could not save the items; try again");
    out.push_back(std::move(*answer));
  }
  return Reply::success({{"items", std::move(out)}, {"added", !dry_run}});
}

Reply TravelService::list(const Caller& caller) {
  json items = json::array();
  for (const auto& item : load_items(caller.user)) items.push_back(to_json(item));
  return Reply::success({{"items", std::move(items)}});
}

Reply TravelService::remove(const Caller& caller, const json& request) {
  const auto id = optional_text(request, "id");
  if (!id || id->empty()) return bad_request("give the item's id as {\"id\": \"…\"}");
  if (!store_->remove_item(caller.user, *id)) return not_found("item", *id);
  return Reply::success({{"id", *id}, {"removed", true}});
}

Reply TravelService::day(const Caller& caller, const json& request) {
  const auto date = optional_text(request, "date");
  auto zone = optional_text(request, "zone");
  if (!date || !zone) return bad_request("'date' and 'zone' must be strings");
  if (!zone->empty() && !is_known_zone(*zone)) {
    return bad_request(fmt::format("'{}' is not an IANA time zone (e.g. Europe/Paris)", *zone));
  }
  const auto items = load_items(caller.user);
  if (zone->empty()) {
    // Where the traveller is: the end zone of the last item begun by noon
    // UTC of that date (or now), else where the first item starts.
    Instant reference = clock_->now();
    if (!date->empty()) {
      const auto utc_day = local_day(*date, "UTC");
      if (!utc_day) return bad_request("'date' must be a date like 2026-03-29");
      reference = utc_day->first + std::chrono::hours(12);
    }
    *zone = items.empty() ? "UTC" : items.front().start.zone;
    for (const auto& item : items) {
      if (item.start.utc <= reference) *zone = item.end.zone;
    }
  }
  const std::string plan_date = date->empty() ? local_date(clock_->now(), *zone) : *date;
  const auto window = local_day(plan_date, *zone);
  if (!window) return bad_request("'date' must be a date like 2026-03-29");
  json entries = json::array();
  for (const auto& item : items) {
    if (item.start.utc >= window->second || item.end.utc < window->first) continue;
    json entry = to_json(item);
    entry["plan"] = {{"start", format_iso(item.start.utc, *zone)},
                     {"end", format_iso(item.end.utc, *zone)}};
    entries.push_back(std::move(entry));
  }
  return Reply::success({{"date", plan_date}, {"zone", *zone}, {"items", std::move(entries)}});
}

Reply TravelService::next_flight(const Caller& caller) {
  const Instant now = clock_->now();
  for (const auto& item : load_items(caller.user)) {
    if (item.kind != "flight" || item.start.utc <= now) continue;
    const auto left = item.start.utc - now;
    return Reply::success(
        {{"flight", to_json(item)},
         {"departs_in", {{"seconds", left.count()}, {"text", format_duration(left)}}},
         {"departure", format_human(item.start.utc, item.start.zone)},
         {"arrival", format_human(item.end.utc, item.end.zone)}});
  }
  return Reply::success({{"flight", nullptr}, {"message", "no upcoming flight"}});
}

Reply TravelService::remind(const Caller& caller, const json& request) {
  const auto at_text = optional_text(request, "at");
  const auto text = optional_text(request, "text");
  auto zone = optional_text(request, "zone");
  if (!at_text || !text || !zone) return bad_request("'at', 'text' and 'zone' must be strings");
  const auto at = parse_instant(*at_text);
  if (!at) {
    return bad_request(
        "'at' must be an ISO 8601 time with its offset, like 2026-03-28T18:00:00+01:00");
  }
  if (text->empty() || text->size() > kMaxReminderText) {
    return bad_request("'text' must have 1 to 500 characters");
  }
  if (zone->empty()) zone = "UTC";
  if (!is_known_zone(*zone))
    return bad_request(fmt::format("'{}' is not an IANA time zone", *zone));
  if (*at <= clock_->now()) {
    return Reply::error(400, "in_the_past",
                        fmt::format("{} has passed; give a later time", *at_text));
  }
  auto reminder = custom_reminder(caller.user, new_id('r'), *at, *text, *zone);
  if (!store_->add_reminder(reminder)) {
    return Reply::error(503, "store_failed", "could not save the reminder; try again");
  }
  scheduler_->wake();
  return Reply::success(
      {{"id", reminder.id}, {"due", format_iso(*at, *zone)}, {"state", "pending"}});
}

Reply TravelService::reminders(const Caller& caller) {
  json out = json::array();
  for (const auto& r : store_->reminders(caller.user)) {
    out.push_back(reminder_json(r, store_->deliveries(r.id)));
  }
  return Reply::success({{"reminders", std::move(out)}});
}

Reply TravelService::phrases(const Caller& caller, const json& request) {
  const auto id = optional_text(request, "id");
  const auto destination = optional_text(request, "destination");
  auto language = optional_text(request, "language");
  if (!id || !destination || !language) {
    return bad_request("'id', 'destination' and 'language' must be strings");
  }
  if (id->empty() && destination->empty() && language->empty()) {
    return bad_request(
        "give an item's 'id', a 'destination' (city or airport code) or a 'language'");
  }
  std::string where = *destination;
  if (!id->empty()) {
    const auto stored = store_->item(caller.user, *id);
    if (!stored) return not_found("item", *id);
    auto made = make_item(stored->fields, stored->id);
    if (!made.item) return made.error;
    where = made.item->destination;
    if (language->empty()) *language = made.item->language;
  } else if (!where.empty() && language->empty()) {
    if (const auto place = find_city(where)) *language = std::string(place->language);
  }
  if (language->empty()) {
    return Reply::error(404, "unknown_destination",
                        fmt::format("the travel service does not know the language of '{}'; "
                                    "give it as {{\"language\": \"es\"}}",
                                    where));
  }
  json phrases = json::array();
  if (*language == "en") {
    for (const auto& phrase : kPhrases) phrases.push_back({{"en", phrase}, {"text", phrase}});
    return Reply::success({{"destination", where}, {"language", "en"}, {"phrases", phrases}});
  }
  const Reply translated = hub_->call(caller, "translation", "batch",
                                      {{"from", "en"}, {"to", *language}, {"texts", kPhrases}});
  if (!translated.ok()) {
    if (translated.body.value("code", std::string()) == "unknown_pair") {
      return Reply::error(409, "unknown_pair",
                          fmt::format("this hub has no English to '{}' translation installed, so "
                                      "there are no phrases for {}; ask the hub's admin to "
                                      "install that language pair",
                                      *language, where.empty() ? *language : where));
    }
    return Reply::error(502, "translation_failed",
                        "the translation service failed: " +
                            translated.body.value("message", std::string("no message")));
  }
  const auto texts = translated.body.find("texts");
  if (texts == translated.body.end() || !texts->is_array() || texts->size() != kPhrases.size()) {
    return Reply::error(502, "translation_failed",
                        "the translation service answered without "
                        "one text per phrase");
  }
  for (std::size_t i = 0; i < kPhrases.size(); ++i) {
    if (!(*texts)[i].is_string()) {
      return Reply::error(502, "translation_failed", "the translation service answered a non-text");
    }
    phrases.push_back({{"en", kPhrases[i]}, {"text", (*texts)[i]}});
  }
  return Reply::success({{"destination", where}, {"language", *language}, {"phrases", phrases}});
}

}  // namespace allscene::services::travel
