// The compact binary form of an Update, used for sync messages between
// devices and the hub and for a whole document (all of its operations);
// the format is written down byte by byte in docs/services/docs.md.
//
// decode() is total: any byte string yields an Update or an error message,
// never a crash, and allocates no more than a small multiple of its input.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "services/docs/text_doc.hpp"

namespace allscene::services::docs {

inline constexpr unsigned char kFormatTag = 0xD1;
inline constexpr size_t kMaxAgentName = 255;

std::string encode(const Update& update);

struct DecodeResult {
  Update update;
  std::string error;  // empty when the bytes were a valid update
  bool ok() const { return error.empty(); }
};
DecodeResult decode(std::string_view bytes);

// Everything the document holds, as one update.
inline std::string encode_document(const TextDoc& doc) { return encode(doc.updates_since({})); }

}  // namespace allscene::services::docs
