// Itinerary items: flights, trains, hotel stays and events, each with its
// times as Moments (local time + IANA zone + instant).
//
// One JSON shape is both the request of `add` and what `parse` produces,
// so parsed confirmations are validated by the same rules:
//   flight {"kind":"flight","airline":"AF","number":"1234","from":"CDG","to":"JFK",
//           "depart":"2026-03-29T01:30","arrive":"2026-03-29T03:45",
//           "from_zone"?,"to_zone"?,"booking"?}
//   train  {"kind":"train","operator":"Eurostar","number":"9014",
//           "from":"London St Pancras","to":"Paris Gare du Nord",
//           "depart":…,"arrive":…,"from_zone"?,"to_zone"?,"booking"?}
//   hotel  {"kind":"hotel","name":"Hotel Artemide","city":"Rome",
//           "check_in":"2026-04-02"|"2026-04-02T14:00","check_out":…,"zone"?,"booking"?}
//   event  {"kind":"event","title":"Hamilton","place":"Victoria Palace Theatre",
//           "city"?,"start":…,"end"?,"zone"?,"booking"?}
// Zones come from the place table (places.hpp) unless given; a place the
// table does not know needs its zone. "language" (ISO 639-1) may name the
// destination's language for phrases when the table cannot.
//
// Threading: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "services/service.hpp"
#include "services/travel/times.hpp"

namespace allscene::services::travel {

struct Item {
  std::string id;
  std::string kind;         // "flight", "train", "hotel", "event"
  std::string title;        // for people: "AF 1234 CDG → JFK"
  Moment start;             // departure, check-in, event start
  Moment end;               // arrival, check-out, event end (== start if unknown)
  std::string language;     // destination's language, "" if unknown
  std::string destination;  // what the language came from: "JFK", "Rome"
  nlohmann::json fields;    // the normalised request (zones filled in)
};

struct ItemOrError {
  std::optional<Item> item;
  Reply error;
};

// Validates an item request (the shapes above) and resolves its zones;
// 400 with the field to fix otherwise. `id` is kept as given.
ItemOrError make_item(const nlohmann::json& request, std::string id);

// The item as answers show it: its fields, plus "id", "title" and "start"
// / "end" as {"local","zone","iso","utc"}.
nlohmann::json to_json(const Item& item);

// The Moment as answers show it.
nlohmann::json to_json(const Moment& moment);

}  // namespace allscene::services::travel
