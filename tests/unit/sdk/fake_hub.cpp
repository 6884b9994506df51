#include "fake_hub.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <future>
#include <set>

#include "azure/topics.hpp"
#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"

namespace allscene::sdk::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;

struct Conn : std::enable_shared_from_this<Conn> {
  explicit Conn(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::string client_id;
  std::vector<std::pair<std::string, int>> subs;
  std::vector<std::uint8_t> in = std::vector<std::uint8_t>(64 * 1024);
  std::size_t in_size = 0;
  std::deque<std::vector<std::uint8_t>> out;
  bool writing = false;
  bool closed = false;
  std::uint16_t next_id = 0;
};

class FakeHub::Impl : public std::enable_shared_from_this<FakeHub::Impl> {
 public:
  asio::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

  mutable std::mutex mutex;  // guards the records below (read by the test thread)
  std::vector<Published> log;
  std::map<std::string, json> reported;
  std::map<std::string, std::vector<std::string>> subscribed;
  std::set<std::string> online;
  std::function<bool(const std::string&, mqtt::Publish&)> filter;  // hub thread only
  bool calls_unanswered = false;

  std::map<std::string, std::shared_ptr<Conn>> conns;  // by client id; hub thread only
  std::map<std::string, std::string> retained;
  struct Call {
    std::weak_ptr<Conn> caller;
    std::string rid;
  };
  std::map<std::string, Call> calls;  // by the rid sent to the target
  std::uint64_t next_call = 1;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto c = std::make_shared<Conn>(std::move(s));
      self->read(c);
      self->accept();
    });
  }

  void read(const std::shared_ptr<Conn>& c) {
    if (c->in.size() - c->in_size < 16 * 1024) c->in.resize(c->in.size() * 2);
    c->socket.async_read_some(
        asio::buffer(c->in.data() + c->in_size, c->in.size() - c->in_size),
        [self = shared_from_this(), c](boost::system::error_code ec, std::size_t n) {
          if (ec) return self->close(c);
          c->in_size += n;
          std::size_t off = 0;
          while (!c->closed) {
            std::span<const std::uint8_t> rest(c->in.data() + off, c->in_size - off);
            const auto f = mqtt::frame(rest, 16u << 20);
            if (f.status == mqtt::FrameStatus::incomplete) break;
            if (f.status == mqtt::FrameStatus::error) return self->close(c);
            auto r = mqtt::decode(rest.first(f.size), mqtt::Version::v311);
            if (!r.ok()) return self->close(c);
            self->handle(c, r.packet);
            off += f.size;
          }
          if (c->closed) return;
          std::memmove(c->in.data(), c->in.data() + off, c->in_size - off);
          c->in_size -= off;
          self->read(c);
        });
  }

  // By value: `c` may be the map's own pointer, erased below.
  void close(std::shared_ptr<Conn> c) {
    if (c->closed) return;
    c->closed = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
    const auto it = conns.find(c->client_id);
    if (it != conns.end() && it->second == c) {
      conns.erase(it);
      std::lock_guard lock(mutex);
      online.erase(c->client_id);
    }
  }

  void send(const std::shared_ptr<Conn>& c, const mqtt::Packet& p) {
    if (c->closed) return;
    std::vector<std::uint8_t> bytes;
    mqtt::encode(p, mqtt::Version::v311, bytes);
    c->out.push_back(std::move(bytes));
    write(c);
  }

  void write(const std::shared_ptr<Conn>& c) {
    if (c->writing || c->out.empty() || c->closed) return;
    c->writing = true;
    asio::async_write(c->socket, asio::buffer(c->out.front()),
                      [self = shared_from_this(), c](boost::system::error_code ec, std::size_t) {
                        c->writing = false;
                        if (ec) return self->close(c);
                        c->out.pop_front();
                        self->write(c);
                      });
  }

  void deliver(const std::shared_ptr<Conn>& c, const std::string& topic, const std::string& payload,
               int qos, bool retain) {
    mqtt::Publish p;
    p.topic = topic;
    p.payload = payload;
    p.qos = static_cast<std::uint8_t>(qos);
    p.retain = retain;
    if (qos > 0) {
      if (++c->next_id == 0) ++c->next_id;
      p.packet_id = c->next_id;
    }
    send(c, p);
  }

  void route(const std::string& topic, const std::string& payload, int qos) {
    for (auto& [id, c] : std::map(conns)) {
      for (const auto& [filter, sub_qos] : c->subs) {
        if (mqtt::filter_matches(filter, topic)) {
          deliver(c, topic, payload, std::min(qos, sub_qos), false);
          break;
        }
      }
    }
  }

  void publish_from_hub(const std::string& topic, const std::string& payload, bool retain) {
    if (retain) {
      if (payload.empty()) {
        retained.erase(topic);
      } else {
        retained[topic] = payload;
      }
    }
    route(topic, payload, 1);
  }

  void handle(const std::shared_ptr<Conn>& c, mqtt::Packet& packet) {
    if (auto* connect = std::get_if<mqtt::Connect>(&packet)) {
      c->client_id = connect->client_id;
      if (auto old = conns.find(c->client_id); old != conns.end()) close(old->second);
      conns[c->client_id] = c;
      {
        std::lock_guard lock(mutex);
        online.insert(c->client_id);
      }
      send(c, mqtt::Connack{});
    } else if (auto* s = std::get_if<mqtt::Subscribe>(&packet)) {
      on_subscribe(c, *s);
    } else if (auto* p = std::get_if<mqtt::Publish>(&packet)) {
      on_publish(c, *p);
    } else if (std::holds_alternative<mqtt::Pingreq>(packet)) {
      send(c, mqtt::Pingresp{});
    } else if (std::holds_alternative<mqtt::Disconnect>(packet)) {
      close(c);
    }
  }

  void on_subscribe(const std::shared_ptr<Conn>& c, const mqtt::Subscribe& s) {
    mqtt::Suback ack;
    ack.packet_id = s.packet_id;
    for (const auto& sub : s.subscriptions) {
      ack.reason_codes.push_back(static_cast<mqtt::ReasonCode>(sub.options.max_qos));
      c->subs.emplace_back(sub.filter, sub.options.max_qos);
      std::lock_guard lock(mutex);
      subscribed[c->client_id].push_back(sub.filter);
    }
    send(c, ack);
    for (const auto& sub : s.subscriptions) {
      for (const auto& [topic, payload] : retained) {
        if (mqtt::filter_matches(sub.filter, topic)) {
          deliver(c, topic, payload, std::min<int>(1, sub.options.max_qos), true);
        }
      }
    }
  }

  void on_publish(const std::shared_ptr<Conn>& c, mqtt::Publish& p) {
    if (p.qos == 1) {
      mqtt::PubAck ack;
      ack.packet_id = p.packet_id;
      send(c, ack);
    }
    if (filter && !filter(c->client_id, p)) return;
    {
      std::lock_guard lock(mutex);
      log.push_back({c->client_id, p.topic, p.payload, p.qos, p.retain});
    }
    if (p.topic.starts_with("$ecosystem/call/")) return on_call(c, p);
    if (const auto r = azure::parse_method_response(p.topic)) return on_method_response(*r, p);
    if (const auto t = azure::parse_twin_request(p.topic)) return on_twin(c, *t, p.payload);
    if (p.topic.starts_with("$")) return;
    if (p.retain) {
      if (p.payload.empty()) {
        retained.erase(p.topic);
      } else {
        retained[p.topic] = p.payload;
      }
    }
    route(p.topic, p.payload, p.qos);
  }

  void on_twin(const std::shared_ptr<Conn>& c, const azure::TwinRequest& t,
               const std::string& payload) {
    int version = 0;
    if (t.kind == azure::TwinRequest::Kind::patch_reported) {
      const json patch = json::parse(payload, nullptr, false);
      std::lock_guard lock(mutex);
      auto& doc = reported[c->client_id];
      if (doc.is_null()) doc = json::object();
      doc.merge_patch(patch);
      version = static_cast<int>(doc.size());
    }
    mqtt::Publish res;
    res.topic = azure::twin_response_topic(t.kind == azure::TwinRequest::Kind::get ? 200 : 204,
                                           t.rid, version);
    res.payload = t.kind == azure::TwinRequest::Kind::get
                      ? R"({"desired":{"$version":1},"reported":{"$version":1}})"
                      : "";
    send(c, res);
  }

  // "$ecosystem/call/{target}/{method}/?$rid=R&$timeout=S"
  void on_call(const std::shared_ptr<Conn>& c, const mqtt::Publish& p) {
    std::string_view rest(p.topic);
    rest.remove_prefix(std::strlen("$ecosystem/call/"));
    const auto slash = rest.find('/');
    const auto slash2 = rest.find('/', slash + 1);
    const auto bag = azure::parse_property_bag(rest.substr(rest.find('?') + 1));
    std::string rid;
    for (const auto& [k, v] : bag.value_or(azure::PropertyBag{})) {
      if (k == "$rid") rid = v;
    }
    const std::string target(rest.substr(0, slash));
    const std::string method(rest.substr(slash + 1, slash2 - slash - 1));
    if (calls_unanswered) return;
    if (target == "$hub") {  // whoami; every device belongs to "ana" here
      const json me = {
          {"deviceId", c->client_id}, {"owner", "ana"}, {"name", c->client_id}, {"class", "phone"}};
      deliver(c, "$ecosystem/res/200/?$rid=" + rid, me.dump(), 0, false);
      return;
    }
    const auto t = conns.find(target);
    bool takes_methods = false;
    if (t != conns.end()) {
      for (const auto& [f, q] : t->second->subs) takes_methods |= f == azure::kMethodRequests;
    }
    if (!takes_methods) {
      deliver(c, "$ecosystem/res/404/?$rid=" + rid, R"({"error":"offline"})", 0, false);
      return;
    }
    json payload = p.payload.empty() ? json::object() : json::parse(p.payload, nullptr, false);
    if (payload.is_object()) payload["from"] = c->client_id;
    const std::string hub_rid = std::to_string(next_call++);
    calls[hub_rid] = Call{c, rid};
    deliver(t->second, azure::method_request_topic(method, hub_rid), payload.dump(), 0, false);
  }

  void on_method_response(const azure::MethodResponse& r, const mqtt::Publish& p) {
    const auto it = calls.find(r.rid);
    if (it == calls.end()) return;
    const auto caller = it->second.caller.lock();
    const std::string rid = it->second.rid;
    calls.erase(it);
    if (caller == nullptr) return;
    deliver(caller, "$ecosystem/res/" + std::to_string(r.status) + "/?$rid=" + rid, p.payload, 0,
            false);
  }
};

FakeHub::FakeHub() : impl_(std::make_shared<Impl>()) {
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  thread_ = std::thread([impl = impl_] { impl->io.run(); });
}

FakeHub::~FakeHub() {
  asio::post(impl_->io, [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    for (auto& [id, c] : std::map(impl->conns)) impl->close(c);
    // No io.stop(): run() returns once the cancelled operations are done,
    // so no handler (each holds the Impl) is left in the io_context.
  });
  thread_.join();
}

std::vector<Published> FakeHub::published() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

std::vector<Published> FakeHub::published_on(std::string_view prefix) const {
  std::vector<Published> out;
  for (auto& p : published()) {
    if (std::string_view(p.topic).starts_with(prefix)) out.push_back(std::move(p));
  }
  return out;
}

nlohmann::json FakeHub::reported(const std::string& device) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->reported.find(device);
  return it == impl_->reported.end() ? json() : it->second;
}

bool FakeHub::connected(const std::string& client_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->online.contains(client_id);
}

std::vector<std::string> FakeHub::subscriptions(const std::string& client_id) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->subscribed.find(client_id);
  return it == impl_->subscribed.end() ? std::vector<std::string>{} : it->second;
}

namespace {
template <class Fn>
void run_on(asio::io_context& io, Fn fn) {
  std::promise<void> done;
  asio::post(io, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}
}  // namespace

void FakeHub::set_filter(std::function<bool(const std::string&, mqtt::Publish&)> filter) {
  run_on(impl_->io, [&] { impl_->filter = std::move(filter); });
}

void FakeHub::inject(const std::string& topic, const std::string& payload, bool retain) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->log.push_back({"", topic, payload, 1, retain});
  }
  run_on(impl_->io, [&] { impl_->publish_from_hub(topic, payload, retain); });
}

void FakeHub::cut(const std::string& client_id) {
  run_on(impl_->io, [&] {
    if (const auto it = impl_->conns.find(client_id); it != impl_->conns.end()) {
      impl_->close(it->second);
    }
  });
}

void FakeHub::set_calls_unanswered(bool on) {
  run_on(impl_->io, [&] { impl_->calls_unanswered = on; });
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace allscene::sdk::testing
