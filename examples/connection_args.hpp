// The command-line options both examples share: who the device is and how
// it reaches the hub.
#pragma once

#include <CLI/CLI.hpp>
#include <allscene/connection_string.hpp>
#include <allscene/device_client.hpp>
#include <stdexcept>
#include <string>

namespace examples {

struct ConnectionArgs {
  std::string connection_string;
  std::string host = "localhost";
  std::string device;
  std::string key;
  std::string connect_host;
  int port = 0;
  bool tls = false;
  std::string ca;
  std::string cert;
  std::string cert_key;
};

inline void add_connection_options(CLI::App& app, ConnectionArgs& a) {
  app.add_option("connection-string", a.connection_string,
                 "HostName=…;DeviceId=…;SharedAccessKey=… (or --device and --key)");
  app.add_option("--host", a.host, "the hub's host name")->capture_default_str();
  app.add_option("--device", a.device, "device id");
  app.add_option("--key", a.key, "the device's shared access key (base64)");
  app.add_option("--connect-host", a.connect_host, "where to connect, if not the host name");
  app.add_option("--port", a.port, "port (default 1883, or 8883 with TLS)");
  app.add_flag("--tls", a.tls, "connect with TLS (implied by --ca and --cert)");
  app.add_option("--ca", a.ca, "CA certificates (PEM) that sign the hub's certificate");
  app.add_option("--cert", a.cert, "client certificate (PEM): sign in with X.509");
  app.add_option("--cert-key", a.cert_key, "the client certificate's private key (PEM)");
}

// Throws std::runtime_error for an unusable combination.
inline allscene::sdk::ClientOptions client_options(const ConnectionArgs& a) {
  using namespace allscene::sdk;
  ClientOptions o;
  if (!a.connection_string.empty()) {
    std::error_code ec;
    const auto cs = parse_connection_string(a.connection_string, ec);
    if (!cs) throw std::runtime_error("connection string: " + ec.message());
    o = options_from(*cs);
  } else {
    if (a.device.empty()) throw std::runtime_error("give a connection string, or --device");
    o.host_name = a.host;
    o.device_id = a.device;
    o.shared_access_key = a.key;
  }
  o.tls = a.tls || !a.ca.empty() || !a.cert.empty();
  if (!a.connect_host.empty()) o.connect_host = a.connect_host;
  o.port = static_cast<std::uint16_t>(a.port);
  o.ca_file = a.ca;
  o.cert_file = a.cert;
  o.key_file = a.cert_key;
  return o;
}

}  // namespace examples
