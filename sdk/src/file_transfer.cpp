#include "file_transfer.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <memory>

namespace allscene::sdk::detail {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kHashPiece = 64 * 1024;
// The state file is rewritten after this much progress: a restart asks
// again for at most this much.
constexpr std::uint64_t kSaveEvery = 1024 * 1024;
constexpr const char* kStateFile = "state.json";

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

// "a.jpg", then "a (1).jpg", "a (2).jpg", … whichever does not exist.
fs::path free_name(const fs::path& dir, const std::string& name) {
  fs::path candidate = dir / name;
  const fs::path stem = fs::path(name).stem();
  const fs::path ext = fs::path(name).extension();
  std::error_code ec;
  for (int n = 1; fs::exists(candidate, ec); ++n) {
    candidate = dir / (stem.string() + " (" + std::to_string(n) + ")" + ext.string());
  }
  return candidate;
}

}  // namespace

std::optional<std::string> sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
  std::vector<char> piece(kHashPiece);
  while (in) {
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n > 0 && EVP_DigestUpdate(ctx.get(), piece.data(), n) != 1) return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1) return std::nullopt;
  return hex(digest.data(), size);
}

std::string random_id() {
  std::array<unsigned char, 8> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // the system has no entropy: not recoverable
  }
  return hex(bytes.data(), bytes.size());
}

std::optional<std::string> read_chunk(std::ifstream& file, std::uint64_t offset,
                                      std::uint64_t length) {
  file.clear();
  file.seekg(static_cast<std::streamoff>(offset));
  std::string bytes(length, '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(length));
  if (static_cast<std::uint64_t>(file.gcount()) != length) return std::nullopt;
  return bytes;
}

Receiving::Receiving(FileOffer offer, ReceiverConfig config)
    : offer_(std::move(offer)), config_(std::move(config)) {
  config_.chunk_size = std::clamp<std::size_t>(config_.chunk_size, 1024, kMaxChunk);
  config_.window = std::max<std::size_t>(config_.window, 1);
}

fs::path Receiving::folder() const {
  return config_.state_dir / ".allscene-transfers" / (offer_.from + "-" + offer_.transfer);
}

std::error_code Receiving::open() {
  std::error_code ec;
  fs::create_directories(folder(), ec);
  if (ec) return EcosystemErrc::file_error;
  const fs::path part = folder() / (safe_file_name(offer_.name) + ".part");
  const auto held = fs::file_size(part, ec);
  // What a previous process wrote is a prefix of the file; never trust
  // more than the offer's size.
  received_ = ec ? 0 : std::min<std::uint64_t>(held, offer_.size);
  if (!ec && held > received_) fs::resize_file(part, received_, ec);
  part_.open(part, std::ios::binary | std::ios::in | std::ios::out |
                       (received_ == 0 ? std::ios::trunc : std::ios::ate));
  if (!part_) return EcosystemErrc::file_error;
  part_.seekp(static_cast<std::streamoff>(received_));
  next_request_ = received_;
  return save_state();
}

std::error_code Receiving::save_state() {
  nlohmann::json state = to_json(offer_);
  state["from"] = offer_.from;
  state["received"] = received_;
  const fs::path tmp = folder() / "state.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state.dump();
    if (!out) return EcosystemErrc::file_error;
  }
  std::error_code ec;
  fs::rename(tmp, folder() / kStateFile, ec);  // atomic: never a torn state file
  if (ec) return EcosystemErrc::file_error;
  saved_at_ = received_;
  return {};
}

std::vector<FileOffer> Receiving::saved(const fs::path& state_dir) {
  std::vector<FileOffer> out;
  std::error_code ec;
  const fs::path root = state_dir / ".allscene-transfers";
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::ifstream in(entry.path() / kStateFile);
    if (!in) continue;
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto j = parse_object(text);
    if (!j) continue;
    if (auto offer = parse_offer(*j)) out.push_back(std::move(*offer));
  }
  return out;
}

std::vector<ChunkRequest> Receiving::due(TransferClock::time_point now, const std::string& self) {
  std::vector<ChunkRequest> out;
  for (auto& [offset, asked] : requested_) {
    if (now - asked.second < config_.retry_after) continue;
    asked.second = now;
    out.push_back({offer_.transfer, self, offset, asked.first});
  }
  while (requested_.size() < config_.window && next_request_ < offer_.size) {
    const std::uint64_t length =
        std::min<std::uint64_t>(config_.chunk_size, offer_.size - next_request_);
    requested_[next_request_] = {length, now};
    out.push_back({offer_.transfer, self, next_request_, length});
    next_request_ += length;
  }
  return out;
}

void Receiving::retry_all() {
  for (auto& [offset, asked] : requested_) asked.second = TransferClock::time_point{};
}

Receiving::Chunk Receiving::on_data(std::uint64_t offset, std::string_view bytes,
                                    std::error_code& write_error) {
  const auto it = requested_.find(offset);
  if (it == requested_.end() || it->second.first != bytes.size()) return Chunk::ignored;
  requested_.erase(it);
  if (offset != received_) {
    early_.emplace(offset, std::string(bytes));
    return Chunk::accepted;
  }
  if ((write_error = write_in_order(bytes))) return Chunk::ignored;
  // Chunks that came early follow on now.
  for (auto e = early_.begin(); e != early_.end() && e->first == received_; e = early_.erase(e)) {
    if ((write_error = write_in_order(e->second))) return Chunk::ignored;
  }
  if (received_ == offer_.size) {
    part_.close();
    return Chunk::complete;
  }
  if (received_ - saved_at_ >= kSaveEvery) {
    part_.flush();  // the state file must not claim bytes still in our buffer
    write_error = save_state();
  }
  return Chunk::accepted;
}

std::error_code Receiving::write_in_order(std::string_view bytes) {
  part_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!part_) return EcosystemErrc::file_error;
  received_ += bytes.size();
  return {};
}

std::error_code Receiving::finish(fs::path& final_path) {
  if (part_.is_open()) part_.close();
  const fs::path part = folder() / (safe_file_name(offer_.name) + ".part");
  const auto digest = sha256_file(part);
  if (!digest) return EcosystemErrc::file_error;
  if (*digest != offer_.sha256) {
    discard();
    return EcosystemErrc::hash_mismatch;
  }
  std::error_code ec;
  fs::create_directories(config_.downloads_dir, ec);
  final_path = free_name(config_.downloads_dir, safe_file_name(offer_.name));
  fs::rename(part, final_path, ec);
  if (ec) {
    // Another file system: copy, then drop the part.
    fs::copy_file(part, final_path, ec);
    if (ec) return EcosystemErrc::file_error;
  }
  fs::remove_all(folder(), ec);
  return {};
}

void Receiving::discard() {
  if (part_.is_open()) part_.close();
  std::error_code ec;
  fs::remove_all(folder(), ec);
}

}  // namespace allscene::sdk::detail
