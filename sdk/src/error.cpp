#include "allscene/error.hpp"

#include <string>

namespace allscene::sdk {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "allscene.sdk"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::invalid_connection_string:
        return "invalid connection string";
      case Errc::invalid_key:
        return "the shared access key is not base64";
      case Errc::invalid_options:
        return "invalid client options";
      case Errc::not_authorized:
        return "the hub refused the credentials";
      case Errc::connection_refused:
        return "the hub refused the connection";
      case Errc::protocol_error:
        return "the hub broke the MQTT protocol";
      case Errc::keep_alive_timeout:
        return "nothing heard from the hub within the keep-alive";
      case Errc::connection_lost:
        return "the hub closed the connection";
      case Errc::shut_down:
        return "the client was stopped";
      case Errc::queue_full:
        return "the offline queue is full";
      case Errc::timeout:
        return "no response from the hub in time";
      case Errc::bad_request:
        return "the hub refused the request (400)";
      case Errc::not_found:
        return "not found (404)";
      case Errc::payload_too_large:
        return "payload too large (413)";
      case Errc::throttled:
        return "throttled (429)";
      case Errc::hub_error:
        return "hub error (5xx)";
      case Errc::request_failed:
        return "the request failed";
      case Errc::malformed_response:
        return "malformed response from the hub";
    }
    return "unknown allscene.sdk error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& sdk_category() {
  static const Category category;
  return category;
}

std::error_code error_from_status(int status) {
  if (status >= 200 && status < 300) return {};
  switch (status) {
    case 400:
      return Errc::bad_request;
    case 404:
      return Errc::not_found;
    case 413:
      return Errc::payload_too_large;
    case 429:
      return Errc::throttled;
    default:
      break;
  }
  if (status >= 500 && status < 600) return Errc::hub_error;
  return Errc::request_failed;
}

}  // namespace allscene::sdk
