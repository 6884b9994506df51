// Reads itinerary items out of plain-text booking confirmations (English,
// as airlines, rail operators, hotels and ticket sellers e-mail them).
//
// Rule based, no guessing beyond the rules in docs/services/travel.md:
//  - flights: a line with an airline designator the place table knows and
//    a flight number ("AF0662", "BA 117"); its block runs to the next such
//    line and must hold two IATA codes ("(CDG)", or bare codes the table
//    knows) and a departure and an arrival time ("+1" moves a day);
//  - trains: "Eurostar 9014", "ICE 599", "Train 2153", …, with stations
//    from "From:"/"To:" lines or "A 08:01 -> B 11:20";
//  - hotels: "Check-in:" and "Check-out:" lines (a date, optionally a time),
//    the name from "confirmed at …", "Hotel: …" or a line naming a Hotel;
//  - events: "Event:", "Venue:", a date and a time ("Ends:" optional).
// Dates: "29 March 2026", "Oct 26, 2026", "2026-07-03", "06.06.2026"
// (day first); times "14:00", "4:30 PM". Dates without a year are not read.
// A time takes the nearest date before it on its line, else the first
// after it on its line, else the last one above it (in its block or
// before: "Outward journey on 06.06.2026"), else the first one below in its
// block. A booking reference must contain a digit.
//
// Lines longer than 1,000 characters are ignored.
//
// The items come out in the request shape of `add` (itinerary.hpp);
// zones are resolved later by make_item.
//
// Threading: pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace allscene::services::travel {

struct ParsedConfirmation {
  std::vector<nlohmann::json> items;  // `add` requests
  std::vector<std::string> problems;  // what was found but incomplete
};

ParsedConfirmation parse_confirmation(std::string_view text);

}  // namespace allscene::services::travel
