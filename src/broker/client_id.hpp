// A client identifier as the broker keeps it: the connection, its session
// and the broker's directory share one immutable heap copy of the bytes
// instead of holding a std::string each (an idle device costs little
// more than these objects, and ids are often past the 15 bytes a
// std::string holds inline).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace allscene::broker {

// Copies share the bytes; the count is atomic because a connection and its
// session may live on different event loops. Copying is cheap but not
// free (an atomic increment): pass by const reference where a copy is not
// kept.
class ClientId {
 public:
  ClientId() = default;
  explicit ClientId(std::string_view id) {
    if (id.empty()) return;
    void* block = ::operator new(sizeof(Rep) + id.size());
    rep_ = new (block) Rep{{1}, static_cast<std::uint32_t>(id.size())};
    std::memcpy(rep_->chars(), id.data(), id.size());
  }
  ClientId(const ClientId& other) noexcept : rep_(other.rep_) {
    if (rep_) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  ClientId(ClientId&& other) noexcept : rep_(std::exchange(other.rep_, nullptr)) {}
  ClientId& operator=(ClientId other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~ClientId() {
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      rep_->~Rep();
      ::operator delete(rep_);
    }
  }

  std::string_view view() const {
    return rep_ ? std::string_view(rep_->chars(), rep_->size) : std::string_view();
  }
  operator std::string_view() const { return view(); }  // NOLINT: used as a view everywhere
  std::string str() const { return std::string(view()); }
  bool empty() const { return rep_ == nullptr; }

  friend bool operator==(const ClientId& a, const ClientId& b) { return a.view() == b.view(); }

 private:
  // The bytes follow the header in the same allocation.
  struct Rep {
    std::atomic<std::uint32_t> refs;
    std::uint32_t size;
    char* chars() { return reinterpret_cast<char*>(this + 1); }
  };
  Rep* rep_ = nullptr;
};

// Hash and equality for containers keyed by ClientId that are looked up
// by any string (heterogeneous lookup).
struct ClientIdHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
};
struct ClientIdEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace allscene::broker
