// The twin query language: Azure IoT Hub's SELECT … FROM devices subset
// (https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-query-language)
// over service views of twins: parsing, three-valued conditions, projections,
// COUNT() with GROUP BY, and every error with its message and position.
#include "twin/query.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "twin/twin.hpp"

namespace allscene::twin {
namespace {

using nlohmann::json;

constexpr std::int64_t kT1 = 1'764'000'000'123;

json lamp() {
  Twin t;
  t.patch_tags(json::parse(
      R"({"room": "kitchen", "floor": 2, "location": {"region": "US", "plant": "Redmond43"},
          "ratio": 0.5, "owner": null, "labels": ["a", "b"]})"));
  t.patch(Twin::Section::desired, {{"color", "red"}}, kT1);
  t.patch(Twin::Section::reported,
          json::parse(R"({"on": true, "connectivity": "wifi", "firmware": "1.2.3",
                          "telemetryConfig": {"sendFrequencyInSecs": 60, "status": "Pending"}})"),
          kT1);
  json view = t.service_view("lamp");
  view["tags"]["owner"] = nullptr;  // merge patches delete nulls; other JSON may hold them
  return view;
}

json heater() {
  Twin t;
  t.patch_tags(json::parse(R"({"room": "hall", "floor": -1, "location": {"region": "EU"}})"));
  t.patch(Twin::Section::reported, json::parse(R"({"on": false, "connectivity": "wired",
                          "telemetryConfig": {"sendFrequencyInSecs": 30, "status": "Success"}})"),
          kT1);
  return t.service_view("heater");
}

bool matches(std::string_view query, const json& twin) { return Query::parse(query).matches(twin); }

bool where(std::string_view condition, const json& twin = lamp()) {
  return matches("SELECT * FROM devices WHERE " + std::string(condition), twin);
}

std::string error_of(std::string_view query) {
  try {
    Query::parse(query);
  } catch (const QueryError& e) {
    return e.what();
  }
  return "(parsed)";
}

// --- Azure's documented examples ----------------------------------------

TEST(Query, AzureExampleTagRegion) {
  const auto q = Query::parse("SELECT * FROM devices WHERE tags.location.region = 'US'");
  EXPECT_TRUE(q.matches(lamp()));
  EXPECT_FALSE(q.matches(heater()));
  EXPECT_FALSE(q.is_aggregate());
  EXPECT_EQ(q.project(lamp()), lamp());
}

TEST(Query, AzureExampleTagAndReportedProperty) {
  const auto q = Query::parse(
      "SELECT * FROM devices WHERE tags.location.region = 'US' AND "
      "properties.reported.telemetryConfig.sendFrequencyInSecs >= 60");
  EXPECT_TRUE(q.matches(lamp()));
  EXPECT_FALSE(q.matches(heater()));
}

TEST(Query, AzureExampleInList) {
  const auto q = Query::parse(
      "SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']");
  EXPECT_TRUE(q.matches(lamp()));
  EXPECT_TRUE(q.matches(heater()));
  EXPECT_FALSE(where("properties.reported.connectivity IN ['wired']"));
}

TEST(Query, AzureExampleIsDefined) {
  EXPECT_TRUE(where("is_defined(properties.reported.connectivity)"));
  EXPECT_FALSE(where("IS_DEFINED(properties.reported.battery)"));
}

TEST(Query, AzureExampleGroupByStatus) {
  const auto q = Query::parse(
      "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices "
      "FROM devices GROUP BY properties.reported.telemetryConfig.status");
  ASSERT_TRUE(q.is_aggregate());
  const json a = lamp(), b = heater(), c = lamp();
  EXPECT_EQ(q.aggregate({&a, &b, &c}), json::parse(R"([{"status": "Pending", "numberOfDevices": 2},
                                                       {"status": "Success", "numberOfDevices": 1}])"));
}

TEST(Query, DocsExamplesParse) {  // docs/query.md
  for (const char* q :
       {"SELECT * FROM devices WHERE tags.location.region = 'US'",
        "SELECT * FROM devices\n  WHERE tags.location.region = 'US'\n    AND "
        "properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
        "SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']",
        "SELECT deviceId, properties.reported.on AS power FROM devices WHERE NOT "
        "IS_DEFINED(tags.room)",
        "SELECT COUNT() AS numberOfDevices FROM devices WHERE STARTSWITH(deviceId, 'lamp')",
        "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices\n"
        "  FROM devices GROUP BY properties.reported.telemetryConfig.status",
        "SELECT * FROM devices WHERE NOT (tags.room = 'hall' OR tags.floor < 0)",
        "SELECT * FROM devices WHERE tags.floor >= -2.5E-1"}) {
    EXPECT_NO_THROW(Query::parse(q)) << q;
  }
  EXPECT_TRUE(where("'Z' < 'a'"));
  EXPECT_EQ(error_of("SELECT * FROM devices WHERE tags.my-name = 1"),
            "query: unexpected character '-' at 36");
  EXPECT_EQ(error_of("SELECT * FROM devices WHERE properties.reported.on"),
            "query: expected a comparison operator, IN or NIN, found end of query at 51");
}

// --- comparisons ----------------------------------------------------------

TEST(Query, NumberComparisons) {
  EXPECT_TRUE(where("tags.floor = 2"));
  EXPECT_FALSE(where("tags.floor = 3"));
  EXPECT_TRUE(where("tags.floor != 3"));
  EXPECT_TRUE(where("tags.floor <> 3"));
  EXPECT_FALSE(where("tags.floor <> 2"));
  EXPECT_TRUE(where("tags.floor < 3"));
  EXPECT_FALSE(where("tags.floor < 2"));
  EXPECT_TRUE(where("tags.floor <= 2"));
  EXPECT_FALSE(where("tags.floor <= 1"));
  EXPECT_TRUE(where("tags.floor > 1"));
  EXPECT_FALSE(where("tags.floor > 2"));
  EXPECT_TRUE(where("tags.floor >= 2"));
  EXPECT_FALSE(where("tags.floor >= 2.5"));
}

TEST(Query, NumbersCompareByValueWhateverTheirSpelling) {
  EXPECT_TRUE(where("tags.floor = 2.0"));
  EXPECT_TRUE(where("tags.floor = 2e0"));
  EXPECT_TRUE(where("tags.ratio = 0.5"));
  EXPECT_TRUE(where("tags.ratio < 1"));
  EXPECT_TRUE(where("tags.ratio > -0.25"));
  EXPECT_TRUE(where("tags.floor = -1", heater()));
  EXPECT_TRUE(where("tags.floor < 0", heater()));
  EXPECT_TRUE(where("tags.floor > -1.5E0", heater()));
  EXPECT_TRUE(where("tags.floor < 99999999999999999999"));  // beyond int64: a double
}

TEST(Query, StringComparisonsAreBytewise) {
  EXPECT_TRUE(where("tags.room = 'kitchen'"));
  EXPECT_FALSE(where("tags.room = 'Kitchen'"));
  EXPECT_TRUE(where("tags.room != 'hall'"));
  EXPECT_TRUE(where("tags.room > 'hall'"));
  EXPECT_TRUE(where("tags.room < 'kitchens'"));
  EXPECT_TRUE(where("tags.room >= 'kitchen'"));
  EXPECT_TRUE(where("tags.room <= 'kitchen'"));
  EXPECT_FALSE(where("tags.room < 'kitchen'"));
  EXPECT_TRUE(where("deviceId = \"lamp\""));
}

TEST(Query, StringLiteralsDoubleTheirQuote) {
  json twin = {{"tags", {{"name", "it's \"on\""}}}};
  EXPECT_TRUE(where(R"(tags.name = 'it''s "on"')", twin));
  EXPECT_TRUE(where(R"(tags.name = "it's ""on""")", twin));
  json back = {{"tags", {{"path", "a\\b"}}}};
  EXPECT_TRUE(where(R"(tags.path = 'a\b')", back));
  json empty = {{"tags", {{"name", ""}}}};
  EXPECT_TRUE(where("tags.name = ''", empty));
}

TEST(Query, BooleanAndNullComparisons) {
  EXPECT_TRUE(where("properties.reported.on = true"));
  EXPECT_TRUE(where("properties.reported.on = TRUE"));
  EXPECT_FALSE(where("properties.reported.on = false"));
  EXPECT_TRUE(where("properties.reported.on != false"));
  EXPECT_TRUE(where("properties.reported.on = False", heater()));
  EXPECT_FALSE(where("properties.reported.on > false"));  // booleans have no order
  EXPECT_FALSE(where("properties.reported.on < true", heater()));
  EXPECT_TRUE(where("tags.owner = null"));
  EXPECT_FALSE(where("tags.owner != null"));
  EXPECT_FALSE(where("tags.room = null"));   // a string is not null
  EXPECT_FALSE(where("tags.room != null"));  // nor comparable with it
  EXPECT_FALSE(where("tags.missing = null"));
  EXPECT_FALSE(where("tags.owner <= null"));
}

TEST(Query, DifferentTypesNeverCompare) {
  EXPECT_FALSE(where("tags.floor = '2'"));
  EXPECT_FALSE(where("tags.floor != '2'"));
  EXPECT_FALSE(where("tags.floor < '3'"));
  EXPECT_FALSE(where("tags.room = 1"));
  EXPECT_FALSE(where("tags.room != 1"));
  EXPECT_FALSE(where("properties.reported.on = 1"));
  EXPECT_FALSE(where("tags.location = 'US'"));
  EXPECT_FALSE(where("tags.location != 'US'"));
  EXPECT_FALSE(where("NOT tags.floor = '2'"));  // unknown stays unknown under NOT
}

TEST(Query, ObjectsAndArraysCompareOnlyForEquality) {
  EXPECT_TRUE(where("tags.location = tags.location"));
  EXPECT_FALSE(where("tags.location != tags.location"));
  EXPECT_FALSE(where("tags.location < tags.location"));
  EXPECT_TRUE(where("tags.labels = tags.labels"));
  EXPECT_FALSE(where("tags.labels >= tags.labels"));
}

TEST(Query, PathsAndLiteralsOnEitherSide) {
  EXPECT_TRUE(where("'kitchen' = tags.room"));
  EXPECT_TRUE(where("3 > tags.floor"));
  EXPECT_TRUE(where("tags.floor = tags.floor"));
  EXPECT_TRUE(where("properties.desired.$version = 1"));
  EXPECT_TRUE(where("properties.reported.$version >= properties.desired.$version"));
  EXPECT_TRUE(where("1 = 1"));
  EXPECT_FALSE(where("1 = 'a'"));
  EXPECT_TRUE(where("version = 2"));
}

TEST(Query, MissingPathsMatchNothing) {
  for (const char* c : {"tags.nope = 1", "tags.nope != 1", "tags.nope < 1", "tags.nope >= 'x'",
                        "NOT tags.nope = 1", "tags.nope IN [1]", "tags.nope NIN [1]",
                        "tags.room.inner = 'x'",  // through a string
                        "tags.labels.a = 'a'",    // through an array
                        "STARTSWITH(tags.nope, '')", "NOT STARTSWITH(tags.nope, '')"}) {
    EXPECT_FALSE(where(c)) << c;
  }
}

// --- logic ----------------------------------------------------------------

TEST(Query, AndOrNot) {
  EXPECT_TRUE(where("tags.room = 'kitchen' AND tags.floor = 2"));
  EXPECT_FALSE(where("tags.room = 'kitchen' AND tags.floor = 3"));
  EXPECT_TRUE(where("tags.room = 'hall' OR tags.floor = 2"));
  EXPECT_FALSE(where("tags.room = 'hall' OR tags.floor = 3"));
  EXPECT_TRUE(where("NOT tags.room = 'hall'"));
  EXPECT_FALSE(where("NOT tags.room = 'kitchen'"));
  EXPECT_TRUE(where("NOT NOT tags.room = 'kitchen'"));
  EXPECT_TRUE(where("tags.floor = 1 OR tags.floor = 0 OR tags.floor = 2"));
  EXPECT_TRUE(where("tags.floor > 0 AND tags.floor < 3 AND tags.room >= 'k'"));
}

TEST(Query, PrecedenceNotThenAndThenOr) {
  // OR binds loosest: true OR (false AND false).
  EXPECT_TRUE(where("tags.floor = 2 OR tags.floor = 3 AND tags.room = 'hall'"));
  // (false AND x) OR true.
  EXPECT_TRUE(where("tags.floor = 3 AND tags.room = 'hall' OR tags.floor = 2"));
  // Parentheses override: (true OR false) AND false.
  EXPECT_FALSE(where("(tags.floor = 2 OR tags.floor = 3) AND tags.room = 'hall'"));
  // NOT binds tighter than AND: (NOT false) AND true.
  EXPECT_TRUE(where("NOT tags.floor = 3 AND tags.floor = 2"));
  // NOT applies to the parenthesised whole.
  EXPECT_FALSE(where("NOT (tags.floor = 3 OR tags.floor = 2)"));
  EXPECT_TRUE(where("((((tags.floor = 2))))"));
}

TEST(Query, UnknownIsThreeValued) {
  EXPECT_TRUE(where("tags.nope = 1 OR tags.floor = 2"));         // unknown OR true
  EXPECT_FALSE(where("tags.nope = 1 OR tags.floor = 3"));        // unknown OR false
  EXPECT_FALSE(where("tags.nope = 1 AND tags.floor = 2"));       // unknown AND true
  EXPECT_TRUE(where("NOT (tags.nope = 1 AND tags.floor = 3)"));  // NOT (unknown AND false)
  EXPECT_FALSE(where("NOT (tags.nope = 1 OR tags.floor = 3)"));  // NOT unknown
}

TEST(Query, InAndNin) {
  EXPECT_TRUE(where("tags.floor IN [1, 2, 3]"));
  EXPECT_FALSE(where("tags.floor IN [1, 3]"));
  EXPECT_TRUE(where("tags.floor NIN [1, 3]"));
  EXPECT_FALSE(where("tags.floor NIN [2]"));
  EXPECT_TRUE(where("tags.floor IN ['2', 2.0]"));
  EXPECT_FALSE(where("tags.floor IN ['2']"));
  EXPECT_TRUE(where("tags.floor NIN ['2']"));  // defined and not in the list
  EXPECT_FALSE(where("tags.floor IN []"));
  EXPECT_TRUE(where("tags.floor NIN []"));
  EXPECT_TRUE(where("tags.owner IN [null]"));
  EXPECT_TRUE(where("properties.reported.on in [false, true]"));
  EXPECT_TRUE(where("tags.room nin ['hall', 'attic']"));
  EXPECT_FALSE(where("NOT tags.room IN ['kitchen']"));
  EXPECT_FALSE(where("tags.location IN ['US']"));
}

TEST(Query, Functions) {
  EXPECT_TRUE(where("IS_DEFINED(tags.owner)"));
  EXPECT_FALSE(where("NOT IS_DEFINED(tags)"));
  EXPECT_TRUE(where("NOT IS_DEFINED(tags.nope)"));
  EXPECT_TRUE(where("IS_NULL(tags.owner)"));
  EXPECT_FALSE(where("IS_NULL(tags.room)"));
  EXPECT_FALSE(where("IS_NULL(tags.nope)"));
  EXPECT_TRUE(where("IS_STRING(tags.room)"));
  EXPECT_FALSE(where("IS_STRING(tags.floor)"));
  EXPECT_TRUE(where("IS_NUMBER(tags.floor)"));
  EXPECT_TRUE(where("IS_NUMBER(tags.ratio)"));
  EXPECT_FALSE(where("IS_NUMBER(tags.room)"));
  EXPECT_TRUE(where("IS_BOOL(properties.reported.on)"));
  EXPECT_FALSE(where("IS_BOOL(tags.owner)"));
  EXPECT_TRUE(where("IS_OBJECT(tags.location)"));
  EXPECT_FALSE(where("IS_OBJECT(tags.labels)"));
  EXPECT_TRUE(where("IS_ARRAY(tags.labels)"));
  EXPECT_FALSE(where("IS_ARRAY(tags.nope)"));
  EXPECT_TRUE(where("STARTSWITH(tags.location.plant, 'Red')"));
  EXPECT_TRUE(where("STARTSWITH(tags.location.plant, '')"));
  EXPECT_FALSE(where("STARTSWITH(tags.location.plant, 'red')"));
  EXPECT_TRUE(where("ENDSWITH(tags.location.plant, '43')"));
  EXPECT_FALSE(where("ENDSWITH(tags.location.plant, 'Redmond43x')"));
  EXPECT_FALSE(where("STARTSWITH(tags.floor, '2')"));      // not a string: unknown
  EXPECT_FALSE(where("NOT STARTSWITH(tags.floor, '2')"));  // and NOT unknown is unknown
  EXPECT_TRUE(where("startsWith(deviceId, \"la\") AND endswith(deviceId, 'mp')"));
}

TEST(Query, KeywordsAreCaseInsensitivePathsAreNot) {
  EXPECT_TRUE(
      matches("select * from DEVICES where tags.room = 'kitchen' aNd NoT tags.floor = 3", lamp()));
  EXPECT_TRUE(
      matches("Select * From Devices Where tags.floor In [2] Or tags.floor nIn [2]", lamp()));
  EXPECT_FALSE(where("TAGS.room = 'kitchen'"));
  EXPECT_FALSE(where("tags.Room = 'kitchen'"));
}

TEST(Query, WhitespaceIsFree) {
  EXPECT_TRUE(
      matches("  SELECT\t*\nFROM\r\ndevices  WHERE tags.floor>=2 AND tags.floor<=2  ", lamp()));
}

TEST(Query, OperatorsNeedNoSpaces) {
  EXPECT_TRUE(matches("SELECT*FROM devices WHERE(tags.floor>=2)AND(tags.room='kitchen')", lamp()));
  EXPECT_TRUE(matches("SELECT\t*\nFROM\r\ndevices WHERE tags.floor<>3", lamp()));
  EXPECT_TRUE(where("tags.labels=tags.labels AND tags.floor IN[2]"));
}

TEST(Query, NoWhereMatchesEverything) {
  const auto q = Query::parse("SELECT * FROM devices");
  EXPECT_TRUE(q.matches(lamp()));
  EXPECT_TRUE(q.matches(json::object()));
  EXPECT_TRUE(q.matches(json::array()));
}

TEST(Query, AnyJsonIsEvaluatedWithoutThrowing) {
  const auto q = Query::parse("SELECT deviceId FROM devices WHERE deviceId = 'x' OR tags.a > 1");
  for (const json& j : {json(), json(1), json("s"), json::array({1}), json::object(),
                        json::parse(R"({"deviceId": ["x"], "tags": 5})"), json::binary({1, 2})}) {
    EXPECT_FALSE(q.matches(j)) << j.dump();
    EXPECT_EQ(q.project(j),
              (j.contains("deviceId") ? json::parse(R"({"deviceId": ["x"]})") : json::object()))
        << j.dump();
  }
}

TEST(Query, UnicodeNamesAndValues) {
  json twin = {{"tags", {{"pièce", "cuisine ☕"}}}};
  EXPECT_TRUE(where("tags.pièce = 'cuisine ☕'", twin));
  EXPECT_TRUE(where("ENDSWITH(tags.pièce, '☕')", twin));
}

// --- projections ----------------------------------------------------------

TEST(Query, ProjectionUsesLastSegmentOrAlias) {
  const auto q = Query::parse(
      "SELECT deviceId, tags.room, properties.reported.on AS power, tags.location FROM devices");
  EXPECT_EQ(q.project(lamp()), json::parse(R"({"deviceId": "lamp", "room": "kitchen", "power": true,
                                               "location": {"region": "US", "plant": "Redmond43"}})"));
}

TEST(Query, ProjectionOmitsMissingPaths) {
  const auto q = Query::parse("SELECT deviceId, tags.location.plant, tags.nope FROM devices");
  EXPECT_EQ(q.project(heater()), json::parse(R"({"deviceId": "heater"})"));
}

TEST(Query, ProjectionWithWhere) {
  const auto q = Query::parse(
      "SELECT deviceId AS id, properties.reported.connectivity AS link FROM devices "
      "WHERE properties.reported.on = false");
  EXPECT_FALSE(q.matches(lamp()));
  ASSERT_TRUE(q.matches(heater()));
  EXPECT_EQ(q.project(heater()), json::parse(R"({"id": "heater", "link": "wired"})"));
}

TEST(Query, ProjectionKeepsNullsAndMetadata) {
  const auto q = Query::parse("select tags.owner, properties.desired.$version from devices");
  EXPECT_EQ(q.project(lamp()), json::parse(R"({"owner": null, "$version": 1})"));
}

TEST(Query, ColumnNamedCountIsAPath) {
  json twin = {{"count", 3}};
  EXPECT_EQ(Query::parse("SELECT count FROM devices").project(twin), twin);
  EXPECT_FALSE(Query::parse("SELECT count FROM devices").is_aggregate());
}

TEST(Query, KeywordsMayFollowADot) {
  json twin = {{"tags", {{"from", 1}, {"select", 2}}}};
  EXPECT_TRUE(where("tags.from = 1 AND tags.select = 2", twin));
  EXPECT_EQ(Query::parse("SELECT tags.from FROM devices").project(twin),
            json::parse(R"({"from": 1})"));
}

// --- COUNT() and GROUP BY ---------------------------------------------------

TEST(Query, CountDefaultsToCount) {
  const auto q = Query::parse("SELECT COUNT() FROM devices");
  ASSERT_TRUE(q.is_aggregate());
  const json a = lamp(), b = heater();
  EXPECT_EQ(q.aggregate({&a, &b}), json::parse(R"([{"count": 2}])"));
  EXPECT_EQ(q.aggregate({}), json::parse(R"([{"count": 0}])"));
}

TEST(Query, CountWithAliasAndWhere) {
  const auto q = Query::parse(
      "select count() as numberOfDevices from devices where tags.location.region = 'US'");
  const json a = lamp(), b = heater();
  std::vector<const json*> matching;
  for (const json* t : {&a, &b}) {
    if (q.matches(*t)) matching.push_back(t);
  }
  EXPECT_EQ(q.aggregate(matching), json::parse(R"([{"numberOfDevices": 1}])"));
}

TEST(Query, GroupByDefaultsToLastSegment) {
  const auto q = Query::parse("SELECT COUNT() FROM devices GROUP BY tags.room");
  const json a = lamp(), b = heater(), c = lamp(), none = json::object();
  EXPECT_EQ(q.aggregate({&b, &a, &none, &c}),
            json::parse(R"([{"room": "hall", "count": 1}, {"room": "kitchen", "count": 2},
                            {"count": 1}])"));
  EXPECT_EQ(q.aggregate({}), json::array());
}

TEST(Query, GroupByKeepsValueTypesApart) {
  const auto q = Query::parse("SELECT tags.v AS v, COUNT() AS n FROM devices GROUP BY tags.v");
  const json s = {{"tags", {{"v", "1"}}}}, i = {{"tags", {{"v", 1}}}}, f = {{"tags", {{"v", 1.0}}}},
             o = {{"tags", {{"v", {{"x", 1}}}}}};
  EXPECT_EQ(q.aggregate({&s, &i, &f, &o, &s}),
            json::parse(R"([{"v": "1", "n": 2}, {"v": 1, "n": 2}, {"v": {"x": 1}, "n": 1}])"));
}

// --- errors -----------------------------------------------------------------

TEST(QueryErrors, MessagesNameTheProblemAndPosition) {
  struct Case {
    const char* query;
    const char* message;
  };
  const Case cases[] = {
      {"", "query: query must start with SELECT, found end of query at 1"},
      {"UPDATE devices", "query: query must start with SELECT, found 'UPDATE' at 1"},
      {"SELECT FROM devices",
       "query: expected a path, COUNT() or '*' in the select list, found 'FROM' at 8"},
      {"SELECT * devices", "query: expected FROM after the select list, found 'devices' at 10"},
      {"SELECT *", "query: expected FROM after the select list, found end of query at 9"},
      {"SELECT * FROM", "query: expected devices after FROM, found end of query at 14"},
      {"SELECT * FROM devices.modules",
       "query: only FROM devices is supported, not 'devices.modules' at 15"},
      {"SELECT * FROM jobs", "query: only FROM devices is supported, not 'jobs' at 15"},
      {"SELECT * FROM devices WHERE tags.room =",
       "query: expected a value after '=', found end of query at 40"},
      {"SELECT * FROM devices WHERE tags.room <> AND",
       "query: expected a value after '<>', found 'AND' at 42"},
      {"SELECT * FROM devices WHERE", "query: expected a condition, found end of query at 28"},
      {"SELECT * FROM devices WHERE tags.room",
       "query: expected a comparison operator, IN or NIN, found end of query at 38"},
      {"SELECT * FROM devices WHERE tags.room 'x'",
       "query: expected a comparison operator, IN or NIN, found a string at 39"},
      {"SELECT * FROM devices WHERE tags. = 1",
       "query: expected a name after '.', found '=' at 35"},
      {"SELECT * FROM devices WHERE (tags.a = 1",
       "query: expected ')' to close the '(' at 29, found end of query at 40"},
      {"SELECT * FROM devices WHERE tags.a = 1)",
       "query: unexpected ')' after the end of the query at 39"},
      {"SELECT * FROM devices WHERE tags.a = 1 tags.b = 2",
       "query: unexpected 'tags' after the end of the query at 40"},
      {"SELECT * FROM devices WHERE and = 1", "query: expected a condition, found 'and' at 29"},
      {"SELECT * FROM devices WHERE tags.a = 'x", "query: unterminated string at 38"},
      {"SELECT * FROM devices WHERE tags.a = 'it''s", "query: unterminated string at 38"},
      {"SELECT * FROM devices WHERE tags.a = 1.", "query: malformed number at 38"},
      {"SELECT * FROM devices WHERE tags.a = 1e", "query: malformed number at 38"},
      {"SELECT * FROM devices WHERE tags.a = 12abc", "query: malformed number at 38"},
      {"SELECT * FROM devices WHERE tags.a = 1.2.3", "query: malformed number at 38"},
      {"SELECT * FROM devices WHERE tags.a = 1e999", "query: number out of range at 38"},
      {"SELECT * FROM devices WHERE tags.a = #", "query: unexpected character '#' at 38"},
      {"SELECT * FROM devices WHERE tags.a ! 1", "query: '!' must be followed by '=' at 36"},
      {"SELECT * FROM devices WHERE tags.a == 1",
       "query: expected a value after '=', found '=' at 37"},
      {"SELECT * FROM devices WHERE tags.a = -x", "query: unexpected character '-' at 38"},
      {"SELECT * FROM devices WHERE tags.a = \x01", "query: unexpected byte 0x01 at 38"},
      {"SELECT * FROM devices WHERE tags.a IN 'x'",
       "query: expected '[' to start the list, found a string at 39"},
      {"SELECT * FROM devices WHERE tags.a IN ['x' 'y']",
       "query: expected ',' or ']' in the list, found a string at 44"},
      {"SELECT * FROM devices WHERE tags.a IN ['x', tags.b]",
       "query: expected a string, number, true, false or null in the list, found 'tags' at 45"},
      {"SELECT * FROM devices WHERE tags.a NIN ['x',]",
       "query: expected a string, number, true, false or null in the list, found ']' at 45"},
      {"SELECT * FROM devices WHERE LOWER(tags.a) = 'x'", "query: unknown function 'LOWER' at 29"},
      {"SELECT * FROM devices WHERE IS_DEFINED()",
       "query: expected a path as the argument of IS_DEFINED, found ')' at 40"},
      {"SELECT * FROM devices WHERE IS_DEFINED(tags.a, 'x')",
       "query: expected ')' to close IS_DEFINED(, found ',' at 46"},
      {"SELECT * FROM devices WHERE STARTSWITH(tags.a)",
       "query: expected ',' and a string after the path in STARTSWITH, found ')' at 46"},
      {"SELECT * FROM devices WHERE ENDSWITH(tags.a, 3)",
       "query: expected a string as the second argument of ENDSWITH, found a number at 46"},
      {"SELECT * FROM devices WHERE IS_DEFINED(tags.a) = true",
       "query: unexpected '=' after the end of the query at 48"},
      {"SELECT a, b.a FROM devices", "query: duplicate column name 'a' at 11"},
      {"SELECT a AS x, b AS x FROM devices", "query: duplicate column name 'x' at 16"},
      {"SELECT a AS FROM devices", "query: expected a name after AS, found 'FROM' at 13"},
      {"SELECT COUNT(), COUNT() FROM devices", "query: COUNT() may appear only once at 17"},
      {"SELECT COUNT(*) FROM devices",
       "query: expected ')' after COUNT(: COUNT takes no arguments, found '*' at 14"},
      {"SELECT COUNT(), deviceId FROM devices",
       "query: 'deviceId' cannot be selected beside COUNT() without GROUP BY at 17"},
      {"SELECT * FROM devices GROUP BY tags.room",
       "query: GROUP BY needs COUNT() in the select list at 32"},
      {"SELECT tags.room FROM devices GROUP BY tags.room",
       "query: GROUP BY needs COUNT() in the select list at 40"},
      {"SELECT tags.floor, COUNT() FROM devices GROUP BY tags.room",
       "query: 'tags.floor' is not the GROUP BY path at 8"},
      {"SELECT COUNT() FROM devices GROUP tags.room",
       "query: expected BY after GROUP, found 'tags' at 35"},
      {"SELECT COUNT() FROM devices GROUP BY",
       "query: expected a path after GROUP BY, found end of query at 37"},
      {"SELECT COUNT() AS room FROM devices GROUP BY tags.room",
       "query: duplicate column name 'room' at 46"},
      {"SELECT * FROM devices WHERE NOT", "query: expected a condition, found end of query at 32"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.query), c.message) << c.query;
}

TEST(QueryErrors, QueryErrorIsARuntimeError) {
  EXPECT_THROW(Query::parse("nonsense"), std::runtime_error);
}

TEST(QueryErrors, MessagesQuoteOnlyPrintableText) {
  EXPECT_EQ(error_of("SELECT * FROM d\xC3\xA9vices"),
            "query: only FROM devices is supported, not 'd??vices' at 15");
  EXPECT_EQ(error_of("SELECT * FROM devices WHERE f\xFF(x)"), "query: unknown function 'f?' at 29");
  EXPECT_EQ(
      error_of("SELECT * FROM devices x" + std::string(100, 'y')),
      "query: unexpected 'x" + std::string(47, 'y') + "...' after the end of the query at 23");
}

TEST(QueryLimits, LengthLimit) {
  std::string ok = "SELECT * FROM devices";
  ok.resize(Query::kMaxLength, ' ');
  EXPECT_NO_THROW(Query::parse(ok));
  EXPECT_EQ(error_of(ok + " "), "query: 8193 bytes is longer than the limit of 8192");
}

std::string nested_parens(int depth) {
  return "SELECT * FROM devices WHERE " + std::string(depth, '(') + "tags.floor = 2" +
         std::string(depth, ')');
}

std::string nested_nots(int depth) {
  std::string q = "SELECT * FROM devices WHERE ";
  for (int i = 0; i < depth; ++i) q += "NOT ";
  return q + "tags.floor = 2";
}

TEST(QueryLimits, NestingDepthLimit) {
  EXPECT_TRUE(Query::parse(nested_parens(Query::kMaxDepth)).matches(lamp()));
  EXPECT_EQ(error_of(nested_parens(Query::kMaxDepth + 1)),
            "query: conditions nested deeper than 32 at 62");
  EXPECT_TRUE(Query::parse(nested_nots(Query::kMaxDepth)).matches(lamp()));  // even count
  EXPECT_EQ(error_of(nested_nots(Query::kMaxDepth + 1)),
            "query: conditions nested deeper than 32 at 161");
  EXPECT_EQ(error_of("SELECT * FROM devices WHERE NOT (NOT (" + std::string(30, '(')),
            "query: conditions nested deeper than 32 at 68");
}

TEST(QueryLimits, HostileQueriesFailCleanly) {
  std::string parens = "SELECT * FROM devices WHERE ";
  parens.resize(Query::kMaxLength, '(');
  EXPECT_NE(error_of(parens).find("nested deeper than 32"), std::string::npos);
  std::string nots = "SELECT * FROM devices WHERE ";
  while (nots.size() + 4 <= Query::kMaxLength) nots += "NOT ";
  EXPECT_NE(error_of(nots).find("nested deeper than 32"), std::string::npos);
  // A long flat chain is not nesting.
  std::string chain = "SELECT * FROM devices WHERE tags.floor = 2";
  while (chain.size() + 20 <= Query::kMaxLength) chain += " OR tags.floor = 3";
  EXPECT_TRUE(Query::parse(chain).matches(lamp()));
  std::string list = "SELECT * FROM devices WHERE tags.floor IN [0";
  while (list.size() + 3 <= Query::kMaxLength) list += ",1";
  list += "]";
  EXPECT_FALSE(Query::parse(list).matches(lamp()));
}

// --- contracts ----------------------------------------------------------------

TEST(QueryContract, WrongMethodForTheQueryIsAProgrammerError) {
  const json a = lamp();
  EXPECT_THROW(Query::parse("SELECT COUNT() FROM devices").project(a), std::logic_error);
  EXPECT_THROW(Query::parse("SELECT * FROM devices").aggregate({&a}), std::logic_error);
  EXPECT_THROW(Query::parse("SELECT COUNT() FROM devices").aggregate({&a, nullptr}),
               std::logic_error);
}

TEST(QueryContract, CopiesShareTheTreeAndConstUseIsThreadSafe) {
  const auto original = Query::parse(
      "SELECT deviceId FROM devices WHERE tags.room IN ['kitchen'] AND NOT tags.floor < 0");
  const Query copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  const json a = lamp(), b = heater();
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Query& q = t % 2 == 0 ? original : copy;
      for (int i = 0; i < 500; ++i)
        hits[static_cast<std::size_t>(t)] += q.matches(a) + q.matches(b);
    });
  }
  for (auto& th : threads) th.join();
  for (int h : hits) EXPECT_EQ(h, 500);
}

}  // namespace
}  // namespace allscene::twin
