// A phone: sends its battery level as device-to-cloud events, reports its
// model and battery as twin properties, and rings on the direct method
// `ring`. Runs the SDK on a thread of its own; the main thread only
// produces readings. Ends after --count events or on Ctrl-C.
//
//   allscene-example-phone --device phone --key … --port 1883 --interval 5
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "connection_args.hpp"

namespace {

std::atomic<bool> quit{false};

void on_signal(int) { quit = true; }

}  // namespace

int main(int argc, char** argv) {
  using nlohmann::json;
  using namespace allscene::sdk;

  CLI::App app{"allscene example device: a phone"};
  examples::ConnectionArgs args;
  examples::add_connection_options(app, args);
  double interval = 5.0;
  int count = 0;
  std::string model = "allscene-phone-1";
  app.add_option("--interval", interval, "seconds between battery events")->capture_default_str();
  app.add_option("--count", count, "stop after this many events (0: run until Ctrl-C)");
  app.add_option("--model", model, "reported as the twin property `model`");
  CLI11_PARSE(app, argc, argv);

  ClientOptions options;
  try {
    options = examples::client_options(args);
  } catch (const std::exception& e) {
    std::cerr << "phone: " << e.what() << "\n";
    return 2;
  }

  std::cout << std::unitbuf;  // each line as it happens, also into a pipe
  DeviceClient client(options);
  std::atomic<int> battery{100};

  client.on_connection([&](ConnectionStatus status, std::error_code ec) {
    if (status == ConnectionStatus::disconnected) {
      std::cerr << "phone: disconnected: " << ec.message() << " (events are queued)\n";
      return;
    }
    std::cout << "phone: connected\n";
    client.async_report_properties({{"model", model}, {"battery", battery.load()}},
                                   [](std::error_code e, std::int64_t v) {
                                     if (e) {
                                       std::cerr << "phone: report failed: " << e.message() << "\n";
                                     } else {
                                       std::cout << "phone: reported (version " << v << ")\n";
                                     }
                                   });
  });
  client.on_method("ring", [](const MethodRequest& request) {
    const std::string tone =
        request.payload.is_object() ? request.payload.value("tone", "default") : "default";
    std::cout << "phone: ring ring (" << tone << ")\a\n";
    return MethodResult{200, {{"rang", true}, {"tone", tone}}};
  });
  if (const auto ec = client.start()) {
    std::cerr << "phone: " << ec.message() << "\n";
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  for (int sent = 0; !quit && (count == 0 || sent < count); ++sent) {
    const int level = battery.load();
    Event e;
    e.payload = json{{"battery", level}}.dump();
    e.content_type = "application/json";
    e.content_encoding = "utf-8";
    e.properties = {{"kind", "battery"}, {"low", level < 20 ? "true" : "false"}};
    client.async_send_event(std::move(e), [level](std::error_code ec) {
      if (ec) {
        std::cerr << "phone: event lost: " << ec.message() << "\n";
      } else {
        std::cout << "phone: sent battery " << level << "\n";
      }
    });
    battery = std::max(0, level - 1);
    // Sleep in small steps so Ctrl-C ends the wait.
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(interval);
    while (!quit && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // The destructor stops the client: events still queued complete with
  // shut_down. Give the last one a moment to be acknowledged first.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return 0;
}
