// The file transfer engine's bookkeeping and file I/O, without MQTT
// (docs/protocol.md, "File transfer"). The receiver pulls: it decides which
// chunks to ask for (a window of outstanding requests, asked again after a
// timeout), writes what arrives in order to {name}.part, and keeps a small
// state file beside it so another process can resume. Chunks that arrive
// ahead of the next one to write wait in memory (at most the window).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "allscene/ecosystem.hpp"
#include "ecosystem_codec.hpp"

namespace allscene::sdk::detail {

using TransferClock = std::chrono::steady_clock;

// SHA-256 of a file (OpenSSL EVP), lower-case hex, read in pieces.
std::optional<std::string> sha256_file(const std::filesystem::path& path);
// 16 random hex characters (OpenSSL RAND_bytes).
std::string random_id();

struct ReceiverConfig {
  std::filesystem::path state_dir;      // the .part and state files
  std::filesystem::path downloads_dir;  // complete files
  std::size_t chunk_size = 64 * 1024;
  std::size_t window = 8;
  TransferClock::duration retry_after = std::chrono::seconds(5);
};

class Receiving {
 public:
  Receiving(FileOffer offer, ReceiverConfig config);

  // Creates the folder, the state file and an empty .part, or (resume)
  // reopens the .part and continues after what it holds.
  std::error_code open();
  // The offers of every unfinished transfer saved in `state_dir`.
  static std::vector<FileOffer> saved(const std::filesystem::path& state_dir);

  // The requests to send now: new ones up to the window, and those not
  // answered within retry_after.
  std::vector<ChunkRequest> due(TransferClock::time_point now, const std::string& self);
  // Every outstanding request is asked again at the next due() (a new
  // connection: the old requests or their answers may be lost).
  void retry_all();

  enum class Chunk { ignored, accepted, complete };
  // A chunk arrived: ignored when it was not asked for (late duplicate) or
  // has the wrong length; accepted; or complete (every byte is in .part).
  Chunk on_data(std::uint64_t offset, std::string_view bytes, std::error_code& write_error);

  // Checks the SHA-256 and moves the file into downloads_dir (a free name:
  // "a (1).jpg" when "a.jpg" exists), removing the state file. On a
  // mismatch removes the .part and state file (hash_mismatch).
  std::error_code finish(std::filesystem::path& final_path);
  // Removes the .part and the state file.
  void discard();

  const FileOffer& offer() const { return offer_; }
  std::uint64_t received() const { return received_; }
  std::size_t outstanding() const { return requested_.size(); }

 private:
  std::filesystem::path folder() const;
  std::error_code save_state();
  std::error_code write_in_order(std::string_view bytes);

  FileOffer offer_;
  ReceiverConfig config_;
  std::ofstream part_;
  std::uint64_t received_ = 0;      // bytes in .part (a prefix of the file)
  std::uint64_t next_request_ = 0;  // the first byte never asked for
  std::uint64_t saved_at_ = 0;      // received_ when the state file was last written
  std::map<std::uint64_t, std::pair<std::uint64_t, TransferClock::time_point>>
      requested_;                               // offset -> length, when asked
  std::map<std::uint64_t, std::string> early_;  // arrived ahead of received_
};

// Reads [offset, offset + length) of an open file; nullopt past its end or
// on a read error.
std::optional<std::string> read_chunk(std::ifstream& file, std::uint64_t offset,
                                      std::uint64_t length);

}  // namespace allscene::sdk::detail
