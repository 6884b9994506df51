// The labelled evaluation set (tests/data/assistant, ASSISTANT_DATA_DIR)
// read for the assistant's and the speech service's evaluations.
#include "eval_set.hpp"

#include <date/tz.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace allscene::services::assistant::testing {

using nlohmann::json;

std::chrono::system_clock::time_point parse_iso(const std::string& iso) {
  int y, mo, d, h, mi, s, oh, om;
  char sign;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &s, &sign, &oh,
                  &om) != 9) {
    throw std::invalid_argument("not ISO 8601 with offset: " + iso);
  }
  const auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
  const auto local = date::sys_days(date::year(y) / mo / d) + std::chrono::hours(h) +
                     std::chrono::minutes(mi) + std::chrono::seconds(s);
  return sign == '-' ? local + offset : local - offset;
}

ParseContext eval_context() {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/devices.json");
  const json j = json::parse(in);
  ParseContext c;
  for (const auto& d : j["devices"]) {
    DeviceInfo info;
    info.id = d["id"];
    info.name = d["name"];
    info.device_class = d["class"];
    info.online = d["online"];
    info.battery = d["battery"];
    info.capabilities = d["capabilities"].get<std::vector<std::string>>();
    c.devices.push_back(std::move(info));
  }
  c.caller_device = j["caller"];
  c.zone = date::locate_zone(j["timezone"].get<std::string>());
  c.now = parse_iso(j["now"]);
  return c;
}

std::vector<Example> eval_examples() {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/eval.jsonl");
  std::vector<Example> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    out.push_back({j["text"], j["intent"], j["slots"], j["split"], j["closed"]});
  }
  return out;
}

}  // namespace allscene::services::assistant::testing
