// TLS for listeners: the server context (OpenSSL 3 through asio::ssl) and
// the facts about a client certificate that PeerInfo carries.
//
// Errors: configuration problems throw std::runtime_error with a message
// that names the listener, the file and what to do; nothing here is called
// per message.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "broker/interfaces.hpp"

namespace allscene::net {

struct ListenerConfig;

// A TLS 1.2/1.3 server context for `config` (transport tls or wss): loads
// cert_file, key_file and, when set, ca_file, and sets client-certificate
// requests from client_certs. Throws std::runtime_error when a file cannot
// be loaded or the key does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ListenerConfig& config);

// Upper-case hex digits of `bytes` ("0A1B...").
std::string hex_upper(std::span<const std::uint8_t> bytes);

// SHA-256 over the DER encoding of `cert`, as 64 upper-case hex digits;
// empty if OpenSSL cannot encode the certificate.
std::string cert_thumbprint(X509* cert);

// The subject's (last) common name, empty when it has none.
std::string cert_common_name(X509* cert);

// After a completed handshake: sets peer.tls and, when the client sent a
// certificate, its thumbprint, common name and whether it chains to the
// listener's CA (`ca_configured`: the listener has a ca_file).
void fill_peer_certificate(SSL* ssl, bool ca_configured, broker::PeerInfo& peer);

// The reason OpenSSL gives for the last failure on this thread, or `fallback`.
std::string openssl_error(const char* fallback);

}  // namespace allscene::net
