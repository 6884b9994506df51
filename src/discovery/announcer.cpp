#include "discovery/announcer.hpp"

#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-core/publish.h>

#include <mutex>

#include "discovery/mdns.hpp"

namespace allscene::discovery {

struct Announcer::State {
  ServiceRecord record;  // record.instance: guarded by name_mutex
  Handler handler;
  mutable std::mutex name_mutex;
  // Declared so that the poll is freed last: the server and the group were
  // made on it. ~Announcer stops the poll thread before any of these go.
  detail::PollPtr poll;
  detail::ServerPtr server;
  AvahiSEntryGroup* group = nullptr;  // owned by the server; freed with it or by us

  void report(Event event, const std::string& detail) {
    if (handler) handler(event, detail);
  }

  std::string current_name() const {
    std::lock_guard lock(name_mutex);
    return record.instance;
  }

  void rename_service() {
    char* alternative = avahi_alternative_service_name(current_name().c_str());
    {
      std::lock_guard lock(name_mutex);
      record.instance = alternative;
    }
    avahi_free(alternative);
    report(Event::renamed, current_name());
  }

  // Adds the service to the (empty) group and commits it: probing starts.
  // A name already taken by another local group is renamed right away; the
  // bound keeps a pathological stack from looping.
  void register_service(AvahiServer* s) {
    if (!group) {
      group = avahi_s_entry_group_new(s, &State::on_group, this);
      if (!group) return report(Event::failed, avahi_strerror(avahi_server_errno(s)));
    }
    AvahiStringList* txt = nullptr;
    // avahi_string_list_add prepends: add the last string first so the
    // TXT record keeps txt_records' order.
    for (auto it = record.txt.rbegin(); it != record.txt.rend(); ++it) {
      txt = avahi_string_list_add(txt, it->c_str());
    }
    int error = AVAHI_OK;
    for (int attempt = 0; attempt < 16; ++attempt) {
      error = avahi_server_add_service_strlst(
          s, group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, static_cast<AvahiPublishFlags>(0),
          current_name().c_str(), std::string(kServiceType).c_str(), nullptr, nullptr, record.port,
          txt);
      if (error != AVAHI_ERR_COLLISION) break;
      rename_service();
    }
    avahi_string_list_free(txt);
    if (error == AVAHI_OK) error = avahi_s_entry_group_commit(group);
    if (error != AVAHI_OK) report(Event::failed, avahi_strerror(error));
  }

  // Avahi calls this on the poll thread, and once from avahi_server_new
  // before `server` is set: use `s`, never `server`.
  static void on_server(AvahiServer* s, AvahiServerState state, void* data) {
    auto* self = static_cast<State*>(data);
    switch (state) {
      case AVAHI_SERVER_RUNNING:
        if (!self->group || avahi_s_entry_group_is_empty(self->group)) self->register_service(s);
        break;
      case AVAHI_SERVER_COLLISION: {
        // Another host on the link owns our host name: take "name-2" and
        // announce again (the SRV record points at the host name).
        char* alternative = avahi_alternative_host_name(avahi_server_get_host_name(s));
        self->report(Event::renamed, std::string(alternative) + ".local (host name)");
        avahi_server_set_host_name(s, alternative);
        avahi_free(alternative);
        break;
      }
      case AVAHI_SERVER_REGISTERING:
        // The host name is being (re)probed: our records wait for it.
        if (self->group) avahi_s_entry_group_reset(self->group);
        break;
      case AVAHI_SERVER_FAILURE:
        self->report(Event::failed, avahi_strerror(avahi_server_errno(s)));
        break;
      case AVAHI_SERVER_INVALID:
        break;
    }
  }

  static void on_group(AvahiServer* s, AvahiSEntryGroup* g, AvahiEntryGroupState state,
                       void* data) {
    auto* self = static_cast<State*>(data);
    switch (state) {
      case AVAHI_ENTRY_GROUP_ESTABLISHED:
        self->report(Event::established, self->current_name());
        break;
      case AVAHI_ENTRY_GROUP_COLLISION:
        self->rename_service();
        avahi_s_entry_group_reset(g);
        self->register_service(s);
        break;
      case AVAHI_ENTRY_GROUP_FAILURE:
        self->report(Event::failed, avahi_strerror(avahi_server_errno(s)));
        break;
      case AVAHI_ENTRY_GROUP_UNCOMMITED:
      case AVAHI_ENTRY_GROUP_REGISTERING:
        break;
    }
  }
};

std::unique_ptr<Announcer> Announcer::start(ServiceRecord record, Handler handler,
                                            std::error_code& ec) {
  detail::quiet_avahi_logs();
  auto state = std::make_unique<State>();
  state->record = std::move(record);
  state->handler = std::move(handler);
  state->poll.reset(avahi_threaded_poll_new());
  if (!state->poll) {
    ec = detail::mdns_error(AVAHI_ERR_NO_MEMORY);
    return nullptr;
  }
  AvahiServerConfig config;
  avahi_server_config_init(&config);
  // Only what a hub needs: the service and the A/AAAA records its SRV
  // target resolves to. No HINFO (leaks OS and CPU), no _workstation.
  config.publish_hinfo = 0;
  config.publish_workstation = 0;
  config.publish_domain = 0;
  config.publish_addresses = 1;
  // The announcer browses nothing, yet Avahi caches every record it hears;
  // on a busy network that is memory for nothing (DESIGN: bounded memory).
  // Its default is 4096 entries per interface.
  config.n_cache_entries_max = 256;
  int error = AVAHI_OK;
  state->server.reset(avahi_server_new(avahi_threaded_poll_get(state->poll.get()), &config,
                                       &State::on_server, state.get(), &error));
  avahi_server_config_free(&config);
  if (!state->server) {
    ec = detail::mdns_error(error);
    return nullptr;
  }
  if (avahi_threaded_poll_start(state->poll.get()) < 0) {
    ec = detail::mdns_error(AVAHI_ERR_FAILURE);
    return nullptr;
  }
  ec.clear();
  return std::unique_ptr<Announcer>(new Announcer(std::move(state)));
}

Announcer::Announcer(std::unique_ptr<State> state) : state_(std::move(state)) {}

Announcer::~Announcer() {
  // From here on this thread is the only one using the stack.
  avahi_threaded_poll_stop(state_->poll.get());
  // Freeing the group withdraws its records: Avahi sends their goodbyes
  // (TTL 0) now, before the sockets close with the server.
  if (state_->group) avahi_s_entry_group_free(state_->group);
  state_->group = nullptr;
  state_->server.reset();
}

std::string Announcer::instance() const { return state_->current_name(); }

}  // namespace allscene::discovery
