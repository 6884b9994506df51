// One device of a test group: a DeviceClient and its Ecosystem on the fake
// hub, owner "ana". Set callbacks, then start().
#pragma once

#include <gtest/gtest.h>

#include "allscene/ecosystem.hpp"
#include "sdk_test_util.hpp"

namespace allscene::sdk::test {

inline EcosystemOptions ecosystem_options(const std::filesystem::path& dir) {
  EcosystemOptions o;
  o.user_id = "ana";
  o.downloads_dir = dir / "downloads";
  o.state_dir = dir / "state";
  return o;
}

struct Node {
  Node(testing::FakeHub& hub, std::string id, EcosystemOptions options)
      : hub(hub), id(std::move(id)), client(client_options(hub, this->id)), eco(client, options) {}

  // Starts both and waits until the inbox subscription is in place.
  bool start() {
    if (eco.start() || client.start()) return false;
    return wait_connected(hub, id, "users/ana/inbox/" + id + "/#");
  }

  testing::FakeHub& hub;
  std::string id;
  DeviceClient client;
  Ecosystem eco;
};

// A card as the hub publishes it (retained).
inline void put_card(testing::FakeHub& hub, const std::string& device, bool online,
                     const std::string& extra = "") {
  hub.inject("users/ana/devices/" + device,
             R"({"deviceId":")" + device + R"(","name":")" + device + R"(","class":"phone",)" +
                 R"("online":)" + (online ? "true" : "false") + extra + "}",
             true);
}

}  // namespace allscene::sdk::test
