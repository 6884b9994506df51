// Pure helpers for the HTTP upgrade of MQTT over WebSocket (MQTT §6).
#pragma once

#include <string_view>

namespace allscene::net {

// The path of a request target: "/mqtt?x=1" -> "/mqtt".
std::string_view request_path(std::string_view target);

// Whether a Sec-WebSocket-Protocol header value ("mqtt, mqttv3.1") lists
// `name`. Subprotocol names are tokens compared exactly (RFC 6455 §4.1).
bool lists_subprotocol(std::string_view header, std::string_view name);

}  // namespace allscene::net
