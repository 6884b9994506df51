// File transfer over the inboxes (docs/protocol.md, "File transfer"): the
// sender offers and then serves the chunks the receiver asks for; the
// receiver pulls with detail::Receiving, which keeps the window, the retries
// and the .part and state files.
#include <boost/asio/post.hpp>
#include <charconv>

#include "client_impl.hpp"
#include "ecosystem_impl.hpp"

namespace allscene::sdk {

using detail::complete;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr auto kTick = std::chrono::milliseconds(250);

std::string incoming_key(const FileOffer& offer) { return offer.from + "/" + offer.transfer; }

std::optional<std::uint64_t> parse_offset(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

void Ecosystem::Impl::tick() {
  if (stopped) return;
  for (auto& [key, receiving] : incoming_) pull(*receiving);
  timer_.expires_after(kTick);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    const auto self = weak.lock();
    if (!ec && self) self->tick();
  });
}

void Ecosystem::Impl::follow_connection(const std::shared_ptr<DeviceClient::Impl>& client) {
  boost::asio::post(strand(), [client, weak = weak_from_this()] {
    client->connected_observers.push_back([weak] {
      const auto self = weak.lock();
      if (self && !self->stopped) self->on_connected();
    });
  });
}

void Ecosystem::Impl::on_connected() {
  for (auto& [key, receiving] : incoming_) {
    receiving->retry_all();
    pull(*receiving);
  }
}

void Ecosystem::Impl::report_transfer(const std::string& key, const Transfer& transfer) {
  {
    std::lock_guard lock(mutex);
    transfers[key] = transfer;
  }
  if (callbacks.transfer) callbacks.transfer(transfer);
}

// ---- Receiver ----

MethodResult Ecosystem::Impl::on_file_offer(const json& payload) {
  auto offer = detail::parse_offer(payload);
  if (!offer) {
    reject("a malformed file offer", "file.offer");
    return {400, {{"error", "malformed offer"}}};
  }
  const std::string key = incoming_key(*offer);
  if (incoming_.contains(key)) return {200, {{"accepted", true}}};  // offered again: resume
  if (!callbacks.file_offer || !callbacks.file_offer(*offer)) {
    Transfer t;
    t.id = offer->transfer;
    t.direction = TransferDirection::receiving;
    t.peer = offer->from;
    t.name = offer->name;
    t.size = offer->size;
    t.state = TransferState::declined;
    t.error = EcosystemErrc::declined;
    report_transfer("in:" + key, t);
    return {403, {{"error", "declined"}}};
  }
  detail::ReceiverConfig config{options_.state_dir, options_.downloads_dir, options_.chunk_size,
                                options_.window, options_.chunk_timeout};
  auto receiving = std::make_unique<detail::Receiving>(*offer, config);
  if (receiving->open()) {
    log("ecosystem: cannot create the part file for " + offer->name);
    return {500, {{"error", "cannot store the file"}}};
  }
  auto& r = *incoming_.emplace(key, std::move(receiving)).first->second;
  update_incoming(r, TransferState::active);
  send_status(r, "receiving");
  // After the answer is on its way: the sender knows the transfer first.
  boost::asio::post(strand(), [weak = weak_from_this(), key] {
    const auto self = weak.lock();
    if (self && !self->stopped) self->pull_or_complete(key);
  });
  return {200, {{"accepted", true}}};
}

void Ecosystem::Impl::resume_saved_transfers() {
  detail::ReceiverConfig config{options_.state_dir, options_.downloads_dir, options_.chunk_size,
                                options_.window, options_.chunk_timeout};
  for (auto& offer : detail::Receiving::saved(options_.state_dir)) {
    const std::string key = incoming_key(offer);
    auto receiving = std::make_unique<detail::Receiving>(offer, config);
    if (receiving->open()) {
      log("ecosystem: cannot resume " + offer.name);
      continue;
    }
    auto& r = *incoming_.emplace(key, std::move(receiving)).first->second;
    log("ecosystem: resuming " + offer.name + " from " + offer.from + " at " +
        std::to_string(r.received()));
    update_incoming(r, TransferState::active);
    send_status(r, "receiving");
    pull_or_complete(key);
  }
}

void Ecosystem::Impl::pull(detail::Receiving& receiving) {
  for (const auto& request : receiving.due(detail::TransferClock::now(), self_)) {
    // QoS 0: a lost request is asked again after chunk_timeout.
    publish(topics_.file_read(receiving.offer().from), detail::to_json(request).dump(), 0, false,
            nullptr);
  }
}

void Ecosystem::Impl::send_status(const detail::Receiving& receiving, const std::string& state) {
  const detail::FileStatus status{receiving.offer().transfer, self_, state, receiving.received()};
  publish(topics_.file_status(receiving.offer().from), detail::to_json(status).dump(), 1, false,
          nullptr);
}

void Ecosystem::Impl::update_incoming(const detail::Receiving& receiving, TransferState state,
                                      std::error_code error, fs::path path) {
  const FileOffer& offer = receiving.offer();
  Transfer t;
  t.id = offer.transfer;
  t.direction = TransferDirection::receiving;
  t.peer = offer.from;
  t.name = offer.name;
  t.mime = offer.mime;
  t.size = offer.size;
  t.sha256 = offer.sha256;
  t.bytes = receiving.received();
  t.state = state;
  t.error = error;
  t.path = std::move(path);
  report_transfer("in:" + incoming_key(offer), t);
}

void Ecosystem::Impl::on_inbox(const std::vector<std::string_view>& levels,
                               const std::string& payload) {
  // levels: {"inbox", self, kind, …}
  const std::string_view kind = levels.size() > 2 ? levels[2] : std::string_view();
  if (kind == "file-read" && levels.size() == 3) {
    on_chunk_request(payload);
  } else if (kind == "file-status" && levels.size() == 3) {
    on_file_status(payload);
  } else if (kind == "file-data" && levels.size() == 5) {
    on_file_data(std::string(levels[3]), levels[4], payload);
  } else if (kind == "file-error" && levels.size() == 4) {
    on_file_error(std::string(levels[3]));
  } else {
    reject("an unknown inbox message", topics_.own_inbox_filter());
  }
}

void Ecosystem::Impl::on_file_data(const std::string& transfer, std::string_view offset_text,
                                   const std::string& payload) {
  const auto offset = parse_offset(offset_text);
  const auto it = std::find_if(incoming_.begin(), incoming_.end(), [&](const auto& entry) {
    return entry.second->offer().transfer == transfer;
  });
  if (!offset) {
    reject("file data without an offset", topics_.own_inbox_filter());
    return;
  }
  if (it == incoming_.end()) return;  // a late duplicate of a finished transfer
  const std::string key = it->first;
  auto& receiving = *it->second;
  std::error_code write_error;
  const auto result = receiving.on_data(*offset, payload, write_error);
  if (write_error) {
    log("ecosystem: cannot write " + receiving.offer().name + ": " + write_error.message());
    send_status(receiving, "failed");
    end_incoming(key, TransferState::failed, write_error);
    return;
  }
  if (result == detail::Receiving::Chunk::ignored) return;  // a late duplicate
  if (result == detail::Receiving::Chunk::accepted) {
    update_incoming(receiving, TransferState::active);
    pull(receiving);
    return;
  }
  complete_incoming(key);
}

void Ecosystem::Impl::pull_or_complete(const std::string& key) {
  const auto it = incoming_.find(key);
  if (it == incoming_.end()) return;
  // An empty file, or a process that stopped between the last chunk and the rename.
  if (it->second->received() == it->second->offer().size) return complete_incoming(key);
  pull(*it->second);
}

void Ecosystem::Impl::complete_incoming(const std::string& key) {
  const auto it = incoming_.find(key);
  if (it == incoming_.end()) return;
  auto& receiving = *it->second;
  fs::path final_path;
  if (const auto ec = receiving.finish(final_path)) {
    log("ecosystem: " + receiving.offer().name + " from " + receiving.offer().from + ": " +
        ec.message());
    send_status(receiving, "failed");
    end_incoming(key, TransferState::failed, ec);
    return;
  }
  send_status(receiving, "complete");
  update_incoming(receiving, TransferState::complete, {}, final_path);
  incoming_.erase(it);
}

void Ecosystem::Impl::on_file_error(const std::string& transfer) {
  const auto it = std::find_if(incoming_.begin(), incoming_.end(), [&](const auto& entry) {
    return entry.second->offer().transfer == transfer;
  });
  if (it == incoming_.end()) return;
  log("ecosystem: the sender ended transfer " + transfer);
  end_incoming(it->first, TransferState::failed, EcosystemErrc::transfer_failed);
}

void Ecosystem::Impl::end_incoming(const std::string& key, TransferState state,
                                   std::error_code error) {
  const auto it = incoming_.find(key);
  if (it == incoming_.end()) return;
  it->second->discard();
  update_incoming(*it->second, state, error);
  incoming_.erase(it);
}

// ---- Sender ----

void Ecosystem::Impl::send_file(const std::string& device, const fs::path& path, std::string mime,
                                std::function<void(std::error_code, Transfer)> done) {
  if (stopped) return complete(done, Errc::shut_down);
  if (!detail::valid_topic_level(device)) return complete(done, EcosystemErrc::invalid_argument);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto sha256 = ec ? std::nullopt : detail::sha256_file(path);
  if (!sha256) return complete(done, EcosystemErrc::file_error);
  offer(device, path, std::move(mime), size, *sha256, std::move(done));
}

void Ecosystem::Impl::offer(const std::string& device, const fs::path& path, std::string mime,
                            std::uint64_t size, const std::string& sha256,
                            std::function<void(std::error_code, Transfer)> done) {
  Outgoing out;
  out.file.open(path, std::ios::binary);
  if (!out.file) return complete(done, EcosystemErrc::file_error);
  Transfer& t = out.transfer;
  t.id = detail::random_id();
  t.direction = TransferDirection::sending;
  t.peer = device;
  t.name = path.filename().string();
  t.mime = mime.empty() ? "application/octet-stream" : std::move(mime);
  t.size = size;
  t.sha256 = sha256;
  t.path = path;
  out.done = std::move(done);
  const FileOffer offer{t.id, self_, t.name, t.size, t.sha256, t.mime};
  const std::string id = t.id;
  report_transfer("out:" + id, t);
  outgoing_.emplace(id, std::move(out));
  call(device, "file.offer", detail::to_json(offer),
       [weak = weak_from_this(), id](std::error_code ec, const MethodResult& r) {
         const auto self = weak.lock();
         if (!self) return;
         const auto it = self->outgoing_.find(id);
         if (it == self->outgoing_.end()) return;  // cancelled meanwhile
         const bool declined =
             r.status == 403 || (!ec && r.payload.is_object() && r.payload.contains("accepted") &&
                                 r.payload["accepted"] == false);
         if (declined)
           return self->finish_outgoing(id, TransferState::declined, EcosystemErrc::declined);
         if (ec) return self->finish_outgoing(id, TransferState::failed, ec);
         if (it->second.transfer.state == TransferState::offered) {
           it->second.transfer.state = TransferState::active;
           self->report_transfer("out:" + id, it->second.transfer);
         }
       });
}

void Ecosystem::Impl::send_file_to_all(
    const fs::path& path, std::string mime,
    std::function<void(std::error_code, std::vector<Transfer>)> done) {
  if (stopped) return complete(done, Errc::shut_down);
  std::vector<std::string> targets;
  {
    std::lock_guard lock(mutex);
    for (const auto& [id, card] : cards) {
      if (id != self_ && card.online) targets.push_back(id);
    }
  }
  if (targets.empty()) return complete(done, Errc::not_found);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto sha256 = ec ? std::nullopt : detail::sha256_file(path);
  if (!sha256) return complete(done, EcosystemErrc::file_error);
  struct Gather {
    std::size_t waiting;
    std::vector<Transfer> results;
    std::error_code first_error;
    std::function<void(std::error_code, std::vector<Transfer>)> done;
  };
  auto gather = std::make_shared<Gather>(Gather{targets.size(), {}, {}, std::move(done)});
  for (const auto& device : targets) {
    offer(device, path, mime, size, *sha256, [gather, device](std::error_code e, Transfer t) {
      if (t.peer.empty()) t.peer = device;  // completed before the transfer existed
      if (e && !gather->first_error) gather->first_error = e;
      gather->results.push_back(std::move(t));
      if (--gather->waiting == 0 && gather->done)
        gather->done(gather->first_error, gather->results);
    });
  }
}

void Ecosystem::Impl::on_chunk_request(const std::string& payload) {
  const auto request = detail::parse_chunk_request(payload);
  if (!request || !detail::valid_topic_level(request->from)) {
    reject("a malformed file-read", topics_.own_inbox_filter());
    return;
  }
  const auto it = outgoing_.find(request->transfer);
  if (it == outgoing_.end() || it->second.transfer.peer != request->from) {
    publish(topics_.file_error(request->from, request->transfer),
            json{{"error", "unknown transfer"}}.dump(), 0, false, nullptr);
    return;
  }
  Transfer& t = it->second.transfer;
  if (request->offset > t.size || request->length > t.size - request->offset) {
    reject("a file-read beyond the end of the file", topics_.own_inbox_filter());
    return;
  }
  auto bytes = detail::read_chunk(it->second.file, request->offset, request->length);
  if (!bytes) {
    log("ecosystem: cannot read " + t.path.string());
    publish(topics_.file_error(t.peer, t.id), json{{"error", "cannot read the file"}}.dump(), 0,
            false, nullptr);
    return finish_outgoing(t.id, TransferState::failed, EcosystemErrc::file_error);
  }
  publish(topics_.file_data(t.peer, t.id, request->offset), std::move(*bytes), 0, false, nullptr);
  if (request->offset + request->length > t.bytes) {
    t.bytes = request->offset + request->length;
    if (t.state == TransferState::offered) t.state = TransferState::active;
    report_transfer("out:" + t.id, t);
  }
}

void Ecosystem::Impl::on_file_status(const std::string& payload) {
  const auto status = detail::parse_file_status(payload);
  if (!status) {
    reject("a malformed file-status", topics_.own_inbox_filter());
    return;
  }
  const auto it = outgoing_.find(status->transfer);
  if (it == outgoing_.end() || it->second.transfer.peer != status->from) return;  // ended already
  if (status->state == "complete") {
    it->second.transfer.bytes = it->second.transfer.size;
    finish_outgoing(status->transfer, TransferState::complete, {});
  } else if (status->state == "failed") {
    finish_outgoing(status->transfer, TransferState::failed, EcosystemErrc::transfer_failed);
  } else if (status->state == "declined") {
    finish_outgoing(status->transfer, TransferState::declined, EcosystemErrc::declined);
  }
}

void Ecosystem::Impl::finish_outgoing(std::string id, TransferState state, std::error_code error) {
  const auto it = outgoing_.find(id);
  if (it == outgoing_.end()) return;
  Outgoing out = std::move(it->second);
  outgoing_.erase(it);
  out.transfer.state = state;
  out.transfer.error = error;
  report_transfer("out:" + id, out.transfer);
  if (out.done) out.done(error, out.transfer);
}

void Ecosystem::Impl::cancel_transfer(const std::string& id) {
  if (stopped) return;
  if (const auto out = outgoing_.find(id); out != outgoing_.end()) {
    publish(topics_.file_error(out->second.transfer.peer, id), json{{"error", "cancelled"}}.dump(),
            1, false, nullptr);
    return finish_outgoing(id, TransferState::cancelled, EcosystemErrc::cancelled);
  }
  const auto in = std::find_if(incoming_.begin(), incoming_.end(), [&](const auto& entry) {
    return entry.second->offer().transfer == id;
  });
  if (in == incoming_.end()) return;
  send_status(*in->second, "failed");
  end_incoming(in->first, TransferState::cancelled, EcosystemErrc::cancelled);
}

}  // namespace allscene::sdk
