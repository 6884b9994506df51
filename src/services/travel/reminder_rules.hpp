// Which reminders an itinerary item gets, when, and until when each is
// still worth sending.
//
// A flight gets three, counted back from its departure (in absolute time,
// so a DST change in between is accounted for):
//   checkin   24 h before   (when most airlines open online check-in)
//   leave     3 h before    (leave for the airport: 2 h at the airport for
//                            an international flight plus about 1 h to get
//                            there; one rule for all flights, documented)
//   boarding  40 min before
// Each expires at departure. Reminders already due when the flight is
// added are not created (the traveller has just seen the booking).
// An ad-hoc reminder (`remind`) expires 2 h after its time.
//
// A reminder whose expiry has passed when the scheduler reaches it (the hub
// was down) is marked "expired" and never sent.
//
// Threading: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "services/travel/itinerary.hpp"
#include "services/travel/travel_store.hpp"

namespace allscene::services::travel {

inline constexpr std::chrono::hours kCheckInBefore{24};
inline constexpr std::chrono::hours kLeaveBefore{3};
inline constexpr std::chrono::minutes kBoardingBefore{40};
inline constexpr std::chrono::hours kCustomGrace{2};

// The reminders of `item` (flights only) still ahead of `now`.
std::vector<Reminder> reminders_for(const std::string& user, const Item& item, Instant now);

// An ad-hoc reminder at `at` with `text`, shown in `zone`.
Reminder custom_reminder(const std::string& user, std::string id, Instant at,
                         const std::string& text, const std::string& zone);

}  // namespace allscene::services::travel
