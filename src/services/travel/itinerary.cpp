#include "services/travel/itinerary.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "services/travel/places.hpp"

namespace allscene::services::travel {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxFieldLength = 200;

Reply bad_field(const std::string& field, const std::string& what) {
  return Reply::error(400, "bad_field", "'" + field + "': " + what);
}

// Reads fields of one request; the first problem wins.
class Fields {
 public:
  explicit Fields(const json& request) : request_(request) {}

  std::string text(const std::string& name, bool required) {
    if (error_) return {};
    const auto it = request_.find(name);
    if (it == request_.end() || it->is_null()) {
      if (required) error_ = bad_field(name, "missing; it is required for a " + kind());
      return {};
    }
    if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxFieldLength) {
      error_ = bad_field(name, "must be a string of at most 200 characters");
      return {};
    }
    const auto& value = it->get_ref<const std::string&>();
    if (required && value.empty()) error_ = bad_field(name, "must not be empty");
    return value;
  }

  // A local time in `zone`; a date alone gets `default_time` ("15:00").
  Moment moment(const std::string& name, const std::string& zone, const char* default_time) {
    std::string local = text(name, true);
    if (error_) return {};
    if (default_time && local.size() == 10) local += std::string("T") + default_time;
    auto result = moment_in_zone(local, zone);
    if (!result.moment) {
      error_ = bad_field(name, result.error);
      return {};
    }
    return *result.moment;
  }

  // The zone named by `zone_field`, else the one `place` has in the table.
  std::string zone(const std::string& zone_field, const std::optional<Place>& place,
                   const std::string& place_text) {
    std::string zone = text(zone_field, false);
    if (error_) return {};
    if (zone.empty() && place) zone = std::string(place->zone);
    if (zone.empty()) {
      error_ = bad_field(zone_field, "'" + place_text +
                                         "' is not in the travel service's place table; give "
                                         "its IANA zone (e.g. Europe/Paris) in '" +
                                         zone_field + "'");
    } else if (!is_known_zone(zone)) {
      error_ = bad_field(zone_field, "'" + zone + "' is not an IANA time zone");
    }
    return zone;
  }

  void fail(Reply error) {
    if (!error_) error_ = std::move(error);
  }
  const std::optional<Reply>& error() const { return error_; }
  std::string kind() const { return request_.value("kind", std::string("item")); }

 private:
  const json& request_;
  std::optional<Reply> error_;
};

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

void check_order(Fields& f, const Moment& start, const Moment& end, const std::string& end_name) {
  if (!f.error() && end.utc < start.utc) f.fail(bad_field(end_name, "is before the start"));
}

void set_language(Item& item, const std::optional<Place>& place, const std::string& destination,
                  const std::string& explicit_language) {
  item.destination = destination;
  if (!explicit_language.empty()) {
    item.language = explicit_language;
  } else if (place) {
    item.language = std::string(place->language);
  }
}

void make_flight(Fields& f, json& out, Item& item) {
  std::string airline = upper(f.text("airline", false));
  std::string number = upper(f.text("number", true));
  static const std::regex flight_number(R"(^([A-Z][A-Z0-9]|[0-9][A-Z])?\s?(\d{1,4})$)");
  std::smatch m;
  if (!f.error() && !std::regex_match(number, m, flight_number)) {
    f.fail(bad_field("number", "'" + number + "' is not a flight number like 1234 or AF1234"));
  }
  if (f.error()) return;
  if (m[1].matched) airline = m[1];
  number = m[2];
  number.erase(0, std::min(number.find_first_not_of('0'), number.size() - 1));  // "0662" -> "662"
  if (airline.size() != 2) {
    return f.fail(bad_field("airline", "give the airline's two-character code (e.g. AF)"));
  }
  const std::string from = upper(f.text("from", true));
  const std::string to = upper(f.text("to", true));
  const auto from_place = find_airport(from);
  const auto to_place = find_airport(to);
  const std::string from_zone = f.zone("from_zone", from_place, from);
  const std::string to_zone = f.zone("to_zone", to_place, to);
  item.start = f.moment("depart", from_zone, nullptr);
  item.end = f.moment("arrive", to_zone, nullptr);
  check_order(f, item.start, item.end, "arrive");
  out["airline"] = airline;
  out["number"] = number;
  out["from"] = from;
  out["to"] = to;
  out["from_zone"] = from_zone;
  out["to_zone"] = to_zone;
  if (auto name = find_airline(airline)) out["airline_name"] = *name;
  item.title = airline + " " + number + " " + from + " → " + to;
  set_language(item, to_place, to, f.text("language", false));
}

void make_train(Fields& f, json& out, Item& item) {
  const std::string operator_name = f.text("operator", false);
  const std::string number = f.text("number", false);
  const std::string from = f.text("from", true);
  const std::string to = f.text("to", true);
  const auto to_place = find_city_in(to);
  const std::string from_zone = f.zone("from_zone", find_city_in(from), from);
  const std::string to_zone = f.zone("to_zone", to_place, to);
  item.start = f.moment("depart", from_zone, nullptr);
  item.end = f.moment("arrive", to_zone, nullptr);
  check_order(f, item.start, item.end, "arrive");
  out["operator"] = operator_name;
  out["number"] = number;
  out["from"] = from;
  out["to"] = to;
  out["from_zone"] = from_zone;
  out["to_zone"] = to_zone;
  std::string train = operator_name.empty() ? "Train" : operator_name;
  if (!number.empty()) train += " " + number;
  item.title = train + " " + from + " → " + to;
  set_language(item, to_place, to_place ? std::string(to_place->city) : to,
               f.text("language", false));
}

void make_hotel(Fields& f, json& out, Item& item) {
  const std::string name = f.text("name", true);
  const std::string city = f.text("city", true);
  auto place = find_city(city);
  if (!place) place = find_city_in(city);
  const std::string zone = f.zone("zone", place, city);
  item.start = f.moment("check_in", zone, "15:00");
  item.end = f.moment("check_out", zone, "11:00");
  check_order(f, item.start, item.end, "check_out");
  out["name"] = name;
  out["city"] = city;
  out["zone"] = zone;
  out["check_in"] = item.start.local;
  out["check_out"] = item.end.local;
  item.title = name + ", " + city;
  set_language(item, place, city, f.text("language", false));
}

void make_event(Fields& f, json& out, Item& item) {
  const std::string title = f.text("title", true);
  const std::string place_name = f.text("place", true);
  const std::string city = f.text("city", false);
  auto place = city.empty() ? find_city_in(place_name) : find_city(city);
  if (!place && !city.empty()) place = find_city_in(city);
  const std::string zone = f.zone("zone", place, city.empty() ? place_name : city);
  item.start = f.moment("start", zone, "00:00");
  item.end = f.text("end", false).empty() ? item.start : f.moment("end", zone, "23:59");
  check_order(f, item.start, item.end, "end");
  out["title"] = title;
  out["place"] = place_name;
  if (!city.empty()) out["city"] = city;
  out["zone"] = zone;
  item.title = title + ", " + place_name;
  set_language(item, place, place ? std::string(place->city) : place_name,
               f.text("language", false));
}

}  // namespace

ItemOrError make_item(const json& request, std::string id) {
  if (!request.is_object()) {
    return {std::nullopt, Reply::error(400, "bad_item", "an item must be a JSON object")};
  }
  Fields f(request);
  const std::string kind = f.text("kind", true);
  Item item;
  item.id = std::move(id);
  item.kind = kind;
  json out = request;
  if (kind == "flight") {
    make_flight(f, out, item);
  } else if (kind == "train") {
    make_train(f, out, item);
  } else if (kind == "hotel") {
    make_hotel(f, out, item);
  } else if (kind == "event") {
    make_event(f, out, item);
  } else if (!f.error()) {
    f.fail(bad_field("kind", "must be flight, train, hotel or event"));
  }
  const std::string booking = f.text("booking", false);
  if (f.error()) return {std::nullopt, *f.error()};
  if (!booking.empty()) out["booking"] = booking;
  out.erase("id");
  item.fields = std::move(out);
  return {std::move(item), {}};
}

json to_json(const Moment& moment) {
  return json{{"local", moment.local},
              {"zone", moment.zone},
              {"iso", format_iso(moment.utc, moment.zone)},
              {"text", format_human(moment.utc, moment.zone)},
              {"utc", moment.utc.time_since_epoch().count()}};
}

json to_json(const Item& item) {
  json out = item.fields;
  out["id"] = item.id;
  out["title"] = item.title;
  out["start"] = to_json(item.start);
  out["end"] = to_json(item.end);
  if (!item.language.empty()) out["language"] = item.language;
  return out;
}

}  // namespace allscene::services::travel
