// A topic trie of subscriptions owned by one shard (one event loop); it is
// never touched from another thread, so matching takes no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mqtt/packets.hpp"

namespace allscene::broker {

class Session;
struct SharedGroup;

// One subscription: a local session or a shared-subscription group.
struct Subscriber {
  Session* session = nullptr;
  SharedGroup* group = nullptr;
  mqtt::SubscribeOptions options;
  std::uint32_t subscription_id = 0;  // 0: none
};

class SubscriptionIndex {
 public:
  SubscriptionIndex();
  ~SubscriptionIndex();
  SubscriptionIndex(const SubscriptionIndex&) = delete;
  SubscriptionIndex& operator=(const SubscriptionIndex&) = delete;

  // Adds or replaces the entry of the same session/group for `filter`.
  // Returns true when the filter was new for that subscriber.
  bool insert(std::string_view filter, const Subscriber& subscriber);
  // Removes the entry of `session` (or `group`) for `filter`; true if found.
  bool erase(std::string_view filter, const Session* session, const SharedGroup* group);

  // Appends every subscriber whose filter matches `topic` to `out`. Filters
  // starting with a wildcard do not match topics starting with '$' (§4.7.2).
  void match(std::string_view topic, std::vector<Subscriber>& out) const;

  std::size_t size() const { return size_; }

 private:
  struct Node;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> children;
    std::unique_ptr<Node> plus;
    std::vector<Subscriber> exact;  // filters ending at this node
    std::vector<Subscriber> hash;   // "<this node>/#"
    bool empty() const { return children.empty() && !plus && exact.empty() && hash.empty(); }
  };

  void match_node(const Node& node, std::string_view rest, bool at_end, bool dollar_root,
                  std::vector<Subscriber>& out) const;
  bool erase_in(Node& node, std::string_view rest, bool at_end, const Session* session,
                const SharedGroup* group);

  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
};

}  // namespace allscene::broker
