#include "services/travel/reminder_rules.hpp"

#include "services/travel/places.hpp"

namespace allscene::services::travel {
namespace {

std::string clock_time(Instant t, const std::string& zone) {
  // "Sun 29 Mar 2026 01:30 CET" -> "01:30 CET"
  const std::string text = format_human(t, zone);
  constexpr std::size_t kDateLength = 16;  // "Sun 29 Mar 2026 "
  return text.size() > kDateLength ? text.substr(kDateLength) : text;
}

std::string destination_name(const Item& flight) {
  const std::string to = flight.fields.value("to", std::string());
  const auto place = find_airport(to);
  return place && !place->city.empty() ? std::string(place->city) : to;
}

}  // namespace

std::vector<Reminder> reminders_for(const std::string& user, const Item& item, Instant now) {
  if (item.kind != "flight") return {};
  const std::string flight = item.fields.value("airline", std::string()) + " " +
                             item.fields.value("number", std::string());
  const std::string from = item.fields.value("from", std::string());
  const std::string booking = item.fields.value("booking", std::string());
  const Instant departs = item.start.utc;
  const std::string departs_text = format_human(departs, item.start.zone);

  auto make = [&](const char* kind, Instant due, std::string title, std::string body) {
    Reminder r;
    r.id = item.id + "." + kind;
    r.user = user;
    r.item_id = item.id;
    r.kind = kind;
    r.title = std::move(title);
    r.body = std::move(body);
    r.zone = item.start.zone;
    r.due = due;
    r.expires = departs;
    return r;
  };
  std::vector<Reminder> all = {
      make("checkin", departs - kCheckInBefore,
           "Check-in is open: " + flight + " to " + destination_name(item),
           item.title + " departs " + departs_text +
               (booking.empty() ? "." : ". Booking reference " + booking + ".")),
      make("leave", departs - kLeaveBefore, "Time to leave for the airport (" + from + ")",
           flight + " departs at " + clock_time(departs, item.start.zone) + ", in 3 h."),
      make("boarding", departs - kBoardingBefore, "Boarding soon: " + flight,
           "Boarding starts about now; departure " + clock_time(departs, item.start.zone) + "."),
  };
  std::vector<Reminder> ahead;
  for (auto& r : all) {
    if (r.due > now) ahead.push_back(std::move(r));
  }
  return ahead;
}

Reminder custom_reminder(const std::string& user, std::string id, Instant at,
                         const std::string& text, const std::string& zone) {
  Reminder r;
  r.id = std::move(id);
  r.user = user;
  r.kind = "custom";
  r.title = "Reminder";
  r.body = text;
  r.zone = zone;
  r.due = at;
  r.expires = at + kCustomGrace;
  return r;
}

}  // namespace allscene::services::travel
