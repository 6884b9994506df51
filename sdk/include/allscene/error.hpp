// Errors of the allscene device SDK: every failure the SDK reports is a
// std::error_code of sdk_category() (allscene::sdk::Errc), including the
// hub's refusal of a sign-in and the status of a failed twin request.
// Transport failures (resolve, TCP, TLS) are reported as the
// boost::system/std error codes they arrive as, only through the
// connection handler; operations never fail because the link went down
// (they are queued or retried) except where their documentation says so.
#pragma once

#include <system_error>

namespace allscene::sdk {

enum class Errc {
  // Configuration (reported synchronously by parse functions and start()).
  invalid_connection_string = 1,  // not "Key=value;…" or a required key missing
  invalid_key,                    // the shared access key is not base64
  invalid_options,                // e.g. no device id, or TLS files that cannot be loaded

  // Connection (reported to the connection handler; the client keeps retrying).
  not_authorized,      // CONNACK refused the credentials (3.1.1 return codes 4 and 5)
  connection_refused,  // CONNACK refused for another reason (return codes 1–3)
  protocol_error,      // the hub sent bytes that are not valid MQTT 3.1.1
  keep_alive_timeout,  // nothing heard from the hub for 1.5 keep-alive periods
  connection_lost,     // the hub closed the connection

  // Operations.
  shut_down,           // stop() was called (or the client destroyed) first
  queue_full,          // the offline queue was full: the event was dropped
  timeout,             // no answer to a twin request in ClientOptions::request_timeout
  bad_request,         // twin request answered 400 (e.g. a malformed patch)
  not_found,           // answered 404
  payload_too_large,   // answered 413
  throttled,           // answered 429
  hub_error,           // answered 5xx
  request_failed,      // answered with another status outside 2xx
  malformed_response,  // a 2xx answer whose body is not the JSON expected
};

const std::error_category& sdk_category();

inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), sdk_category()}; }

// The error a twin response status maps to; success for 2xx.
std::error_code error_from_status(int status);

}  // namespace allscene::sdk

template <>
struct std::is_error_code_enum<allscene::sdk::Errc> : std::true_type {};
