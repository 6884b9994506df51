// A smart bulb: reports on/brightness/color as twin reported properties,
// applies desired changes, answers the direct methods `blink` and `set`,
// and prints cloud-to-device messages. Runs the SDK on its own
// boost::asio::io_context (the caller-driven mode); Ctrl-C stops it.
//
//   allscene-example-bulb "HostName=localhost;DeviceId=bulb;SharedAccessKey=…" --port 1883
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "connection_args.hpp"

namespace {

using nlohmann::json;
using namespace allscene::sdk;

struct Bulb {
  bool on = false;
  int brightness = 100;  // percent
  std::string color = "#ffffff";

  json state() const { return {{"on", on}, {"brightness", brightness}, {"color", color}}; }

  // Applies the known keys of `change` (desired properties or a `set`
  // payload); ignores the rest. Returns whether anything was applied.
  bool apply(const json& change) {
    bool applied = false;
    if (change.contains("on") && change["on"].is_boolean()) {
      on = change["on"].get<bool>();
      applied = true;
    }
    if (change.contains("brightness") && change["brightness"].is_number_integer()) {
      brightness = std::clamp(change["brightness"].get<int>(), 0, 100);
      applied = true;
    }
    if (change.contains("color") && change["color"].is_string()) {
      color = change["color"].get<std::string>();
      applied = true;
    }
    return applied;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"allscene example device: a smart bulb"};
  examples::ConnectionArgs args;
  examples::add_connection_options(app, args);
  CLI11_PARSE(app, argc, argv);

  ClientOptions options;
  try {
    options = examples::client_options(args);
  } catch (const std::exception& e) {
    std::cerr << "bulb: " << e.what() << "\n";
    return 2;
  }

  std::cout << std::unitbuf;  // each line as it happens, also into a pipe
  boost::asio::io_context io;
  DeviceClient client(io.get_executor(), options);
  Bulb bulb;  // touched only in handlers, which all run on the client's strand

  auto report = [&client, &bulb] {
    client.async_report_properties(bulb.state(), [](std::error_code ec, std::int64_t version) {
      if (ec) {
        std::cerr << "bulb: report failed: " << ec.message() << "\n";
      } else {
        std::cout << "bulb: reported (version " << version << ")\n";
      }
    });
  };

  client.on_connection([&](ConnectionStatus status, std::error_code ec) {
    if (status == ConnectionStatus::disconnected) {
      std::cerr << "bulb: disconnected: " << ec.message() << " (retrying)\n";
      return;
    }
    std::cout << "bulb: connected\n";
    // Desired changes made while the bulb was away come with the twin.
    client.async_get_twin([&](std::error_code error, Twin twin) {
      if (error) {
        std::cerr << "bulb: twin: " << error.message() << "\n";
      } else {
        bulb.apply(twin.desired);
      }
      report();
    });
  });
  client.on_desired_change([&](const json& patch, std::int64_t version) {
    std::cout << "bulb: desired (version " << version << "): " << patch.dump() << "\n";
    if (bulb.apply(patch)) report();
  });
  client.on_method("blink", [](const MethodRequest& request) {
    const int times = request.payload.is_object() ? request.payload.value("times", 3) : 3;
    std::cout << "bulb: blink x" << times << "\n";
    return MethodResult{200, {{"blinked", times}}};
  });
  client.on_method("set", [&](const MethodRequest& request) {
    if (!request.payload.is_object() || !bulb.apply(request.payload)) {
      return MethodResult{400, {{"message", "expected {on, brightness, color}"}}};
    }
    report();
    return MethodResult{200, bulb.state()};
  });
  client.on_message([](const CloudMessage& m) {
    std::cout << "bulb: message " << m.property("$.mid") << ": " << m.payload << "\n";
    for (const auto& [k, v] : m.properties) std::cout << "  " << k << " = " << v << "\n";
  });

  if (const auto ec = client.start()) {
    std::cerr << "bulb: " << ec.message() << "\n";
    return 2;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { client.stop(); });
  io.run();  // returns once the client has stopped
  return 0;
}
