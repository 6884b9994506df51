#include "services/travel/places.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace allscene::services::travel {
namespace {

// Busiest airports (ACI ranking, rounded) plus a few rail-only cities that
// confirmations name; the code of a rail-only city is empty.
constexpr Place kPlaces[] = {
    // North America
    {"ATL", "Atlanta", "America/New_York", "US", "en"},
    {"DFW", "Dallas", "America/Chicago", "US", "en"},
    {"DEN", "Denver", "America/Denver", "US", "en"},
    {"ORD", "Chicago", "America/Chicago", "US", "en"},
    {"LAX", "Los Angeles", "America/Los_Angeles", "US", "en"},
    {"JFK", "New York", "America/New_York", "US", "en"},
    {"EWR", "Newark", "America/New_York", "US", "en"},
    {"LGA", "", "America/New_York", "US", "en"},
    {"LAS", "Las Vegas", "America/Los_Angeles", "US", "en"},
    {"MCO", "Orlando", "America/New_York", "US", "en"},
    {"MIA", "Miami", "America/New_York", "US", "en"},
    {"CLT", "Charlotte", "America/New_York", "US", "en"},
    {"SEA", "Seattle", "America/Los_Angeles", "US", "en"},
    {"PHX", "Phoenix", "America/Phoenix", "US", "en"},
    {"SFO", "San Francisco", "America/Los_Angeles", "US", "en"},
    {"IAH", "Houston", "America/Chicago", "US", "en"},
    {"BOS", "Boston", "America/New_York", "US", "en"},
    {"FLL", "Fort Lauderdale", "America/New_York", "US", "en"},
    {"MSP", "Minneapolis", "America/Chicago", "US", "en"},
    {"DTW", "Detroit", "America/Detroit", "US", "en"},
    {"PHL", "Philadelphia", "America/New_York", "US", "en"},
    {"SLC", "Salt Lake City", "America/Denver", "US", "en"},
    {"IAD", "Washington", "America/New_York", "US", "en"},
    {"SAN", "San Diego", "America/Los_Angeles", "US", "en"},
    {"HNL", "Honolulu", "Pacific/Honolulu", "US", "en"},
    {"YYZ", "Toronto", "America/Toronto", "CA", "en"},
    {"YVR", "Vancouver", "America/Vancouver", "CA", "en"},
    {"YUL", "Montreal", "America/Toronto", "CA", "fr"},
    {"MEX", "Mexico City", "America/Mexico_City", "MX", "es"},
    {"CUN", "Cancun", "America/Cancun", "MX", "es"},
    // South America
    {"GRU", "Sao Paulo", "America/Sao_Paulo", "BR", "pt"},
    {"GIG", "Rio de Janeiro", "America/Sao_Paulo", "BR", "pt"},
    {"BOG", "Bogota", "America/Bogota", "CO", "es"},
    {"LIM", "Lima", "America/Lima", "PE", "es"},
    {"SCL", "Santiago", "America/Santiago", "CL", "es"},
    {"EZE", "Buenos Aires", "America/Argentina/Buenos_Aires", "AR", "es"},
    // Europe
    {"LHR", "London", "Europe/London", "GB", "en"},
    {"LGW", "", "Europe/London", "GB", "en"},
    {"STN", "", "Europe/London", "GB", "en"},
    {"MAN", "Manchester", "Europe/London", "GB", "en"},
    {"EDI", "Edinburgh", "Europe/London", "GB", "en"},
    {"DUB", "Dublin", "Europe/Dublin", "IE", "en"},
    {"CDG", "Paris", "Europe/Paris", "FR", "fr"},
    {"ORY", "", "Europe/Paris", "FR", "fr"},
    {"NCE", "Nice", "Europe/Paris", "FR", "fr"},
    {"LYS", "Lyon", "Europe/Paris", "FR", "fr"},
    {"MRS", "Marseille", "Europe/Paris", "FR", "fr"},
    {"AMS", "Amsterdam", "Europe/Amsterdam", "NL", "nl"},
    {"BRU", "Brussels", "Europe/Brussels", "BE", "fr"},
    {"FRA", "Frankfurt", "Europe/Berlin", "DE", "de"},
    {"MUC", "Munich", "Europe/Berlin", "DE", "de"},
    {"BER", "Berlin", "Europe/Berlin", "DE", "de"},
    {"HAM", "Hamburg", "Europe/Berlin", "DE", "de"},
    {"DUS", "Dusseldorf", "Europe/Berlin", "DE", "de"},
    {"CGN", "Cologne", "Europe/Berlin", "DE", "de"},
    {"ZRH", "Zurich", "Europe/Zurich", "CH", "de"},
    {"GVA", "Geneva", "Europe/Zurich", "CH", "fr"},
    {"VIE", "Vienna", "Europe/Vienna", "AT", "de"},
    {"MAD", "Madrid", "Europe/Madrid", "ES", "es"},
    {"BCN", "Barcelona", "Europe/Madrid", "ES", "es"},
    {"PMI", "Palma", "Europe/Madrid", "ES", "es"},
    {"AGP", "Malaga", "Europe/Madrid", "ES", "es"},
    {"SVQ", "Seville", "Europe/Madrid", "ES", "es"},
    {"VLC", "Valencia", "Europe/Madrid", "ES", "es"},
    {"LIS", "Lisbon", "Europe/Lisbon", "PT", "pt"},
    {"OPO", "Porto", "Europe/Lisbon", "PT", "pt"},
    {"FCO", "Rome", "Europe/Rome", "IT", "it"},
    {"MXP", "Milan", "Europe/Rome", "IT", "it"},
    {"VCE", "Venice", "Europe/Rome", "IT", "it"},
    {"NAP", "Naples", "Europe/Rome", "IT", "it"},
    {"FLR", "Florence", "Europe/Rome", "IT", "it"},
    {"CPH", "Copenhagen", "Europe/Copenhagen", "DK", "da"},
    {"ARN", "Stockholm", "Europe/Stockholm", "SE", "sv"},
    {"OSL", "Oslo", "Europe/Oslo", "NO", "nb"},
    {"HEL", "Helsinki", "Europe/Helsinki", "FI", "fi"},
    {"WAW", "Warsaw", "Europe/Warsaw", "PL", "pl"},
    {"PRG", "Prague", "Europe/Prague", "CZ", "cs"},
    {"BUD", "Budapest", "Europe/Budapest", "HU", "hu"},
    {"ATH", "Athens", "Europe/Athens", "GR", "el"},
    {"IST", "Istanbul", "Europe/Istanbul", "TR", "tr"},
    {"OTP", "Bucharest", "Europe/Bucharest", "RO", "ro"},
    {"KEF", "Reykjavik", "Atlantic/Reykjavik", "IS", "is"},
    // Middle East and Africa
    {"DXB", "Dubai", "Asia/Dubai", "AE", "ar"},
    {"AUH", "Abu Dhabi", "Asia/Dubai", "AE", "ar"},
    {"DOH", "Doha", "Asia/Qatar", "QA", "ar"},
    {"TLV", "Tel Aviv", "Asia/Jerusalem", "IL", "he"},
    {"CAI", "Cairo", "Africa/Cairo", "EG", "ar"},
    {"JNB", "Johannesburg", "Africa/Johannesburg", "ZA", "en"},
    {"CPT", "Cape Town", "Africa/Johannesburg", "ZA", "en"},
    {"CMN", "Casablanca", "Africa/Casablanca", "MA", "ar"},
    {"NBO", "Nairobi", "Africa/Nairobi", "KE", "sw"},
    // Asia and Oceania
    {"HND", "Tokyo", "Asia/Tokyo", "JP", "ja"},
    {"NRT", "", "Asia/Tokyo", "JP", "ja"},
    {"KIX", "Osaka", "Asia/Tokyo", "JP", "ja"},
    {"ICN", "Seoul", "Asia/Seoul", "KR", "ko"},
    {"PEK", "Beijing", "Asia/Shanghai", "CN", "zh"},
    {"PVG", "Shanghai", "Asia/Shanghai", "CN", "zh"},
    {"CAN", "Guangzhou", "Asia/Shanghai", "CN", "zh"},
    {"HKG", "Hong Kong", "Asia/Hong_Kong", "HK", "zh"},
    {"TPE", "Taipei", "Asia/Taipei", "TW", "zh"},
    {"SIN", "Singapore", "Asia/Singapore", "SG", "en"},
    {"BKK", "Bangkok", "Asia/Bangkok", "TH", "th"},
    {"KUL", "Kuala Lumpur", "Asia/Kuala_Lumpur", "MY", "ms"},
    {"CGK", "Jakarta", "Asia/Jakarta", "ID", "id"},
    {"DPS", "Bali", "Asia/Makassar", "ID", "id"},
    {"MNL", "Manila", "Asia/Manila", "PH", "en"},
    {"SGN", "Ho Chi Minh City", "Asia/Ho_Chi_Minh", "VN", "vi"},
    {"DEL", "Delhi", "Asia/Kolkata", "IN", "hi"},
    {"BOM", "Mumbai", "Asia/Kolkata", "IN", "hi"},
    {"SYD", "Sydney", "Australia/Sydney", "AU", "en"},
    {"MEL", "Melbourne", "Australia/Melbourne", "AU", "en"},
    {"AKL", "Auckland", "Pacific/Auckland", "NZ", "en"},
    // Rail-only cities that confirmations name
    {"", "Strasbourg", "Europe/Paris", "FR", "fr"},
    {"", "Bordeaux", "Europe/Paris", "FR", "fr"},
    {"", "Stuttgart", "Europe/Berlin", "DE", "de"},
    {"", "Rotterdam", "Europe/Amsterdam", "NL", "nl"},
    {"", "Bologna", "Europe/Rome", "IT", "it"},
    {"", "Turin", "Europe/Rome", "IT", "it"},
    {"", "Kyoto", "Asia/Tokyo", "JP", "ja"},
    {"", "York", "Europe/London", "GB", "en"},
};

// Other English names confirmations use for the same cities.
constexpr std::pair<std::string_view, std::string_view> kCityAliases[] = {
    {"New York City", "New York"},
    {"Frankfurt am Main", "Frankfurt"},
    {"Muenchen", "Munich"},
    {"Koeln", "Cologne"},
    {"Firenze", "Florence"},
    {"Venezia", "Venice"},
    {"Roma", "Rome"},
    {"Milano", "Milan"},
    {"Lisboa", "Lisbon"},
    {"Wien", "Vienna"},
    {"Praha", "Prague"},
    {"Bruxelles", "Brussels"},
    {"Zuerich", "Zurich"},
};

constexpr std::pair<std::string_view, std::string_view> kAirlines[] = {
    {"AA", "American Airlines"},
    {"AC", "Air Canada"},
    {"AF", "Air France"},
    {"AY", "Finnair"},
    {"AZ", "ITA Airways"},
    {"BA", "British Airways"},
    {"CX", "Cathay Pacific"},
    {"DL", "Delta Air Lines"},
    {"EI", "Aer Lingus"},
    {"EK", "Emirates"},
    {"EY", "Etihad Airways"},
    {"FR", "Ryanair"},
    {"IB", "Iberia"},
    {"JL", "Japan Airlines"},
    {"KL", "KLM"},
    {"LH", "Lufthansa"},
    {"LX", "Swiss"},
    {"NH", "ANA"},
    {"OS", "Austrian Airlines"},
    {"QF", "Qantas"},
    {"QR", "Qatar Airways"},
    {"SK", "SAS"},
    {"SN", "Brussels Airlines"},
    {"SQ", "Singapore Airlines"},
    {"TK", "Turkish Airlines"},
    {"TP", "TAP Air Portugal"},
    {"U2", "easyJet"},
    {"UA", "United Airlines"},
    {"VS", "Virgin Atlantic"},
    {"VY", "Vueling"},
    {"W6", "Wizz Air"},
    {"WN", "Southwest Airlines"},
};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Whether `word` occurs in `text` with no letter or digit on either side;
// case matters (a city is written with capitals: "Nice", not "nice").
bool contains_word(std::string_view text, std::string_view word) {
  if (word.empty() || word.size() > text.size()) return false;
  for (std::size_t at = 0; at + word.size() <= text.size(); ++at) {
    if (text.substr(at, word.size()) != word) continue;
    const bool left = at == 0 || !is_word_char(text[at - 1]);
    const std::size_t end = at + word.size();
    const bool right = end == text.size() || !is_word_char(text[end]);
    if (left && right) return true;
  }
  return false;
}

std::optional<Place> city_by_exact_name(std::string_view name) {
  for (const auto& place : kPlaces) {
    if (!place.city.empty() && iequals(place.city, name)) return place;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Place> find_airport(std::string_view code) {
  if (code.size() != 3) return std::nullopt;
  for (const auto& place : kPlaces) {
    if (place.code == code) return place;
  }
  return std::nullopt;
}

std::optional<Place> find_city(std::string_view name) {
  if (auto city = city_by_exact_name(name)) return city;
  for (const auto& [alias, city] : kCityAliases) {
    if (iequals(alias, name)) return city_by_exact_name(city);
  }
  if (name.size() == 3) {
    std::string upper(name);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return find_airport(upper);
  }
  return std::nullopt;
}

std::optional<Place> find_city_in(std::string_view text) {
  std::optional<Place> best;
  std::size_t best_length = 0;
  auto consider = [&](std::string_view name, std::string_view city) {
    if (name.size() > best_length && contains_word(text, name)) {
      if (auto place = city_by_exact_name(city)) {
        best = place;
        best_length = name.size();
      }
    }
  };
  for (const auto& place : kPlaces) consider(place.city, place.city);
  for (const auto& [alias, city] : kCityAliases) consider(alias, city);
  return best;
}

std::optional<std::string_view> find_airline(std::string_view designator) {
  for (const auto& [code, name] : kAirlines) {
    if (code == designator) return name;
  }
  return std::nullopt;
}

}  // namespace allscene::services::travel
