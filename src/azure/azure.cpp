#include "azure/azure.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <charconv>
#include <limits>

namespace allscene::azure {

namespace {

constexpr std::string_view kSasPrefix = "SharedAccessSignature ";
constexpr std::string_view kDevicesSegment = "/devices/";

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// HMAC-SHA256 of `data` under the raw `key`; empty on failure.
std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &out_len);
  if (result == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string string_to_sign(std::string_view encoded_resource, std::int64_t expiry) {
  std::string text(encoded_resource);
  text += '\n';
  text += std::to_string(expiry);
  return text;
}

}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>((high << 4) | low);
    i += 2;
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t out_len = 0;
  // No ignore set and no end pointer: any character outside the alphabet,
  // or missing padding, fails the whole decode.
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &out_len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(out_len);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<DeviceUsername> parse_device_username(std::string_view username) {
  const std::size_t first = username.find('/');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const std::size_t second = username.find('/', first + 1);
  if (second == std::string_view::npos || second == first + 1) return std::nullopt;
  std::string_view query = username.substr(second + 1);
  if (query.starts_with('?')) {
    query.remove_prefix(1);
  } else if (!query.empty() && (query.find('/') != std::string_view::npos ||
                                query.find('=') == std::string_view::npos)) {
    // A third path segment (the module form "{host}/{device}/{module}/?...")
    // or something else; the legacy form is a bare query "api-version=...".
    return std::nullopt;
  }
  auto params = parse_property_bag(query);
  if (!params) return std::nullopt;
  DeviceUsername result;
  result.host = std::string(username.substr(0, first));
  result.device_id = std::string(username.substr(first + 1, second - first - 1));
  for (const auto& [key, value] : *params) {
    if (key == "api-version") {
      result.api_version = value;
      break;
    }
  }
  result.params = std::move(*params);
  return result;
}

std::optional<SasToken> parse_sas_token(std::string_view text) {
  if (!text.starts_with(kSasPrefix)) return std::nullopt;
  std::string_view rest = text.substr(kSasPrefix.size());
  SasToken token;
  bool have_sr = false, have_sig = false, have_se = false, have_skn = false;
  while (true) {
    const std::size_t amp = rest.find('&');
    const std::string_view field = rest.substr(0, amp);
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = field.substr(0, eq);
    const std::string_view raw = field.substr(eq + 1);
    auto value = url_decode(raw);
    if (!value) return std::nullopt;
    if (key == "sr" && !have_sr) {
      have_sr = true;
      token.resource = std::move(*value);
      token.resource_raw = std::string(raw);
    } else if (key == "sig" && !have_sig) {
      have_sig = true;
      token.signature = std::move(*value);
    } else if (key == "se" && !have_se) {
      have_se = true;
      const auto seconds = parse_seconds(*value);
      if (!seconds) return std::nullopt;
      token.expiry = *seconds;
    } else if (key == "skn" && !have_skn) {
      have_skn = true;
      token.key_name = std::move(*value);
    } else {
      return std::nullopt;  // unknown or repeated field
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  if (!have_sr || !have_sig || !have_se || token.resource.empty() || token.signature.empty()) {
    return std::nullopt;
  }
  return token;
}

std::optional<std::string> sas_signature(std::string_view resource, std::int64_t expiry,
                                         std::string_view base64_key) {
  const auto key = base64_decode(base64_key);
  if (!key || key->empty()) return std::nullopt;
  const std::string mac = hmac_sha256(*key, string_to_sign(url_encode(resource), expiry));
  if (mac.empty()) return std::nullopt;
  return base64_encode(mac);
}

std::string make_sas_token(std::string_view resource, std::string_view base64_key,
                           std::int64_t expiry, std::string_view key_name) {
  const auto signature = sas_signature(resource, expiry, base64_key);
  std::string token(kSasPrefix);
  token += "sr=";
  token += url_encode(resource);
  token += "&sig=";
  token += url_encode(signature.value_or(""));
  token += "&se=";
  token += std::to_string(expiry);
  if (!key_name.empty()) {
    token += "&skn=";
    token += url_encode(key_name);
  }
  return token;
}

bool sas_signed_by(const SasToken& token, std::string_view base64_key) {
  const auto key = base64_decode(base64_key);
  if (!key || key->empty()) return false;
  const auto presented = base64_decode(token.signature);
  if (!presented) return false;
  // Both candidates are always computed and compared, so the time taken
  // does not say which encoding of the resource the client signed.
  const std::string canonical =
      hmac_sha256(*key, string_to_sign(url_encode(token.resource), token.expiry));
  const std::string as_sent = hmac_sha256(*key, string_to_sign(token.resource_raw, token.expiry));
  if (canonical.empty() || as_sent.empty()) return false;
  const bool canonical_ok = constant_time_equal(*presented, canonical);
  const bool as_sent_ok = !token.resource_raw.empty() && constant_time_equal(*presented, as_sent);
  return canonical_ok || as_sent_ok;
}

bool sas_resource_is_device(const SasToken& token, std::string_view device_id) {
  const std::string_view resource = token.resource;
  const std::size_t slash = resource.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  const std::string_view after_host = resource.substr(slash);
  if (!after_host.starts_with(kDevicesSegment)) return false;
  return !device_id.empty() && after_host.substr(kDevicesSegment.size()) == device_id;
}

bool sas_resource_is_device(const SasToken& token, std::string_view device_id,
                            std::string_view host) {
  if (!sas_resource_is_device(token, device_id)) return false;
  const std::string_view resource = token.resource;
  return iequals(resource.substr(0, resource.find('/')), host);
}

std::string device_events_prefix(std::string_view device_id) {
  std::string prefix = "devices/";
  prefix += device_id;
  prefix += "/messages/events/";
  return prefix;
}

std::string device_bound_prefix(std::string_view device_id) {
  std::string prefix = "devices/";
  prefix += device_id;
  prefix += "/messages/devicebound/";
  return prefix;
}

std::optional<PropertyBag> parse_property_bag(std::string_view text) {
  PropertyBag bag;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view part = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    auto key = url_decode(part.substr(0, eq));
    auto value =
        url_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    if (!key || !value) return std::nullopt;
    bag.emplace_back(std::move(*key), std::move(*value));
  }
  return bag;
}

std::string format_property_bag(const PropertyBag& bag) {
  std::string out;
  for (const auto& [key, value] : bag) {
    if (!out.empty()) out += '&';
    out += url_encode(key);
    out += '=';
    out += url_encode(value);
  }
  return out;
}

}  // namespace allscene::azure
