#include "allscene/device_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "client_impl.hpp"

namespace allscene::sdk {

namespace asio = boost::asio;

ClientOptions options_from(const ConnectionString& cs) {
  ClientOptions o;
  o.host_name = cs.host_name;
  o.device_id = cs.device_id;
  o.connect_host = cs.gateway_host_name;
  o.shared_access_key = cs.shared_access_key;
  o.tls = true;
  return o;
}

std::string CloudMessage::property(std::string_view key) const {
  for (const auto& [k, v] : properties) {
    if (k == key) return v;
  }
  return {};
}

struct DeviceClient::OwnThread {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::promise<void> done;
  std::thread thread;
};

DeviceClient::DeviceClient(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

DeviceClient::DeviceClient(ClientOptions options) : own_(std::make_unique<OwnThread>()) {
  impl_ = std::make_shared<Impl>(own_->io.get_executor(), std::move(options));
  own_->thread = std::thread([own = own_.get()] {
    own->io.run();
    own->done.set_value();
  });
}

DeviceClient::~DeviceClient() {
  stop();
  if (!own_) return;
  auto finished = own_->done.get_future();
  own_->work.reset();
  // stop() closes the connection within about a second; do not hang on a
  // connection that will not close.
  if (finished.wait_for(std::chrono::seconds(3)) != std::future_status::ready) own_->io.stop();
  own_->thread.join();
  impl_.reset();
}

void DeviceClient::on_connection(std::function<void(ConnectionStatus, std::error_code)> handler) {
  asio::post(impl_->strand, [impl = impl_, h = std::move(handler)]() mutable {
    if (!impl->stopped) impl->on_connection = std::move(h);
  });
}

void DeviceClient::on_desired_change(
    std::function<void(const nlohmann::json&, std::int64_t)> handler) {
  asio::post(impl_->strand, [impl = impl_, h = std::move(handler)]() mutable {
    if (!impl->stopped) impl->on_desired = std::move(h);
  });
}

void DeviceClient::on_method(std::string name,
                             std::function<MethodResult(const MethodRequest&)> handler) {
  asio::post(impl_->strand, [impl = impl_, n = std::move(name), h = std::move(handler)]() mutable {
    if (!impl->stopped) impl->methods[n] = std::move(h);
  });
}

void DeviceClient::on_message(std::function<void(const CloudMessage&)> handler) {
  asio::post(impl_->strand, [impl = impl_, h = std::move(handler)]() mutable {
    if (!impl->stopped) impl->on_message = std::move(h);
  });
}

std::error_code DeviceClient::start() {
  if (started_.exchange(true)) return {};
  if (const auto ec = impl_->prepare()) return ec;
  asio::post(impl_->strand, [impl = impl_] { impl->run(); });
  return {};
}

void DeviceClient::stop() {
  if (impl_ == nullptr || impl_->stopped.exchange(true)) return;
  asio::post(impl_->strand, [impl = impl_] { impl->stop(); });
}

void DeviceClient::async_send_event(Event event, std::function<void(std::error_code)> handler) {
  asio::post(impl_->strand, [impl = impl_, e = std::move(event), h = std::move(handler)]() mutable {
    impl->send_event(std::move(e), std::move(h));
  });
}

void DeviceClient::async_get_twin(std::function<void(std::error_code, Twin)> handler) {
  asio::post(impl_->strand,
             [impl = impl_, h = std::move(handler)]() mutable { impl->get_twin(std::move(h)); });
}

void DeviceClient::async_report_properties(
    nlohmann::json patch, std::function<void(std::error_code, std::int64_t)> handler) {
  asio::post(impl_->strand, [impl = impl_, p = std::move(patch), h = std::move(handler)]() mutable {
    impl->report(std::move(p), std::move(h));
  });
}

void DeviceClient::subscribe(std::string filter,
                             std::function<void(const std::string&, const std::string&)> handler) {
  asio::post(impl_->strand,
             [impl = impl_, f = std::move(filter), h = std::move(handler)]() mutable {
               impl->subscribe(std::move(f), std::move(h));
             });
}

void DeviceClient::async_publish(std::string topic, std::string payload, int qos, bool retain,
                                 std::function<void(std::error_code)> handler) {
  asio::post(impl_->strand, [impl = impl_, t = std::move(topic), p = std::move(payload), qos,
                             retain, h = std::move(handler)]() mutable {
    impl->publish(std::move(t), std::move(p), qos, retain, std::move(h));
  });
}

void DeviceClient::async_call(std::string device_id, std::string method, nlohmann::json payload,
                              std::chrono::seconds timeout,
                              std::function<void(std::error_code, MethodResult)> handler) {
  asio::post(impl_->strand, [impl = impl_, d = std::move(device_id), m = std::move(method),
                             p = std::move(payload), timeout, h = std::move(handler)]() mutable {
    impl->call(std::move(d), std::move(m), p, timeout, std::move(h));
  });
}

void DeviceClient::async_service(std::string service, std::string operation, nlohmann::json request,
                                 std::chrono::seconds timeout,
                                 std::function<void(std::error_code, MethodResult)> handler) {
  asio::post(impl_->strand, [impl = impl_, s = std::move(service), o = std::move(operation),
                             r = std::move(request), timeout, h = std::move(handler)]() mutable {
    impl->service(std::move(s), std::move(o), r, timeout, std::move(h));
  });
}

const std::string& DeviceClient::device_id() const { return impl_->device_id(); }

asio::any_io_executor DeviceClient::get_executor() const { return impl_->strand; }

}  // namespace allscene::sdk
