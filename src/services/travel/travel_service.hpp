// The travel assistant service ("travel"): itineraries, reminders to the
// owner's wearables and phones, a day plan in local time, and key phrases
// in the destination's language. Operations and their JSON are in
// docs/services/travel.md.
//
// State lives in SQLite in ctx.state_dir ("travel.db"); reminders survive
// restarts (see scheduler.hpp for the exact delivery guarantee). Each
// caller sees only their own user's items and reminders: another user's id
// answers 404.
//
// Threading: call() is thread-safe. The constructor starts the reminder
// thread (it sends reminders that fell due while the hub was down at
// once); the destructor stops and joins it. Throws std::runtime_error from
// the constructor if the state cannot be opened.
#pragma once

#include <memory>
#include <mutex>
#include <random>

#include "services/service.hpp"
#include "services/travel/itinerary.hpp"
#include "services/travel/scheduler.hpp"
#include "services/travel/travel_store.hpp"

namespace allscene::services::travel {

class TravelService final : public Service {
 public:
  // `clock` defaults to the system clock; tests pass a fake one.
  explicit TravelService(ServiceContext ctx, std::shared_ptr<const Clock> clock = nullptr,
                         SchedulerOptions options = {});
  ~TravelService() override;

  std::string_view name() const override { return "travel"; }
  std::vector<std::string> operations() const override;
  Reply call(const Caller& caller, std::string_view operation,
             const nlohmann::json& request) override;
  // `phrases` waits for the translation service (11 sentences): 30 s.
  std::chrono::milliseconds deadline(std::string_view operation) const override;

  // Makes the reminder thread look at the store and the clock now.
  void wake_scheduler() { scheduler_->wake(); }
  ReminderScheduler& scheduler() { return *scheduler_; }

 private:
  Reply add(const Caller& caller, const nlohmann::json& request);
  Reply parse(const Caller& caller, const nlohmann::json& request);
  Reply list(const Caller& caller);
  Reply remove(const Caller& caller, const nlohmann::json& request);
  Reply day(const Caller& caller, const nlohmann::json& request);
  Reply next_flight(const Caller& caller);
  Reply remind(const Caller& caller, const nlohmann::json& request);
  Reply reminders(const Caller& caller);
  Reply phrases(const Caller& caller, const nlohmann::json& request);

  // Stores a validated item with its reminders; returns its answer.
  std::optional<nlohmann::json> store_item(const std::string& user, Item item);
  // The user's items, rebuilt from their stored requests, by start time.
  std::vector<Item> load_items(const std::string& user);
  std::string new_id(char prefix);

  HubAccess* hub_;
  std::shared_ptr<const Clock> clock_;
  std::unique_ptr<TravelStore> store_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;                        // guarded by random_mutex_
  std::unique_ptr<ReminderScheduler> scheduler_;  // last: stopped first
};

}  // namespace allscene::services::travel
