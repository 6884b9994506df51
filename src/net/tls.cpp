#include "net/tls.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "net/server.hpp"

namespace allscene::net {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 keeps OpenSSL's
// defaults (AES-GCM and ChaCha20-Poly1305, all forward secret).
constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL";

// The handshake accepts any client certificate: whether it chains to the
// CA is recorded in PeerInfo::cert_verified and judged by authentication,
// so devices with self-signed certificates (known by thumbprint) can sign in.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

// An encrypted key would make OpenSSL prompt on the terminal; refuse it.
int no_password(char*, int, int, void*) { return 0; }

[[noreturn]] void fail(const ListenerConfig& c, const std::string& what) {
  throw std::runtime_error(fmt::format("listener {}: {} (see docs/security.md)", c.name, what));
}

}  // namespace

std::string openssl_error(const char* fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::shared_ptr<ssl::context> make_tls_context(const ListenerConfig& c) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                  SSL_OP_NO_RENEGOTIATION | SSL_OP_SINGLE_DH_USE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    fail(c, "OpenSSL refused the TLS 1.2 cipher list: " + openssl_error("unknown error"));
  }
  SSL_CTX_set_default_passwd_cb(native, no_password);
  if (SSL_CTX_use_certificate_chain_file(native, c.cert_file.c_str()) != 1) {
    fail(c, fmt::format("cannot load cert_file {}: {}; it must hold a PEM certificate, "
                        "followed by any intermediate CA certificates",
                        c.cert_file, openssl_error("unreadable")));
  }
  if (SSL_CTX_use_PrivateKey_file(native, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      fail(c, fmt::format("key_file {} does not belong to the certificate in cert_file {}",
                          c.key_file, c.cert_file));
    }
    fail(c, fmt::format("cannot load key_file {}: {}; it must hold an unencrypted PEM private "
                        "key (openssl pkey -in KEY -out KEY.plain removes a passphrase)",
                        c.key_file, openssl_error("unreadable")));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    fail(c, fmt::format("key_file {} does not belong to the certificate in cert_file {}",
                        c.key_file, c.cert_file));
  }
  if (!c.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, c.ca_file.c_str(), nullptr) != 1) {
      fail(c, fmt::format("cannot load ca_file {}: {}; it must hold PEM CA certificates", c.ca_file,
                          openssl_error("unreadable")));
    }
    // Tells clients which CAs' certificates to send.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
  }
  int mode = SSL_VERIFY_NONE;
  if (c.client_certs == "optional") mode = SSL_VERIFY_PEER;
  if (c.client_certs == "required") mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(native, mode, mode == SSL_VERIFY_NONE ? nullptr : accept_any_certificate);
  // Needed for session resumption when client certificates are requested.
  static constexpr unsigned char kSessionContext[] = "allscene";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

std::string hex_upper(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

std::string cert_thumbprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), md, &size) != 1) return {};
  return hex_upper({md, size});
}

std::string cert_common_name(X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  if (!subject) return {};
  int index = -1;
  int last = -1;
  while ((index = X509_NAME_get_index_by_NID(subject, NID_commonName, index)) >= 0) last = index;
  if (last < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

void fill_peer_certificate(SSL* ssl, bool ca_configured, broker::PeerInfo& peer) {
  peer.tls = true;
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return;
  peer.cert_thumbprint = cert_thumbprint(cert.get());
  peer.cert_common_name = cert_common_name(cert.get());
  peer.cert_verified = ca_configured && SSL_get_verify_result(ssl) == X509_V_OK;
}

}  // namespace allscene::net
