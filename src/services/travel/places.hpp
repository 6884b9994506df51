// Airports, cities and airlines the travel service knows by name: each
// place's IANA time zone, country (ISO 3166-1 alpha-2) and main language
// (ISO 639-1, the code the translation service takes).
//
// The table is compact on purpose: about a hundred of the busiest airports
// and the cities they serve. A place that is not in it needs an explicit
// IANA zone in the request (and a language for phrases); nothing is
// guessed from a code the table does not hold.
//
// Threading: the tables are immutable; every function may be called from
// any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace allscene::services::travel {

struct Place {
  std::string_view code;  // IATA airport code, e.g. "CDG"
  std::string_view city;  // the city it serves, in English, e.g. "Paris"
  std::string_view zone;  // IANA zone, e.g. "Europe/Paris"
  std::string_view country;
  std::string_view language;
};

// The airport with this IATA code (upper case), if the table holds it.
std::optional<Place> find_airport(std::string_view code);
// A city by its English name (case-insensitive), or an airport code.
std::optional<Place> find_city(std::string_view name);
// The longest known city name that occurs in `text` as a whole word,
// written as the table writes it (station and venue names: "Paris Gare du
// Nord" -> Paris).
std::optional<Place> find_city_in(std::string_view text);
// The airline's name for a two-character IATA designator ("AF" -> "Air
// France"), if known.
std::optional<std::string_view> find_airline(std::string_view designator);

}  // namespace allscene::services::travel
