// Retained messages (§3.3.1.3), shared by all shards.
//
// Thread-safety: safe for concurrent use. Reads (on SUBSCRIBE) share the
// lock; writes (a PUBLISH with RETAIN) take it briefly. Ordinary messages
// never touch it.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/message.hpp"

namespace allscene::broker {

class RetainedStore {
 public:
  RetainedStore();
  ~RetainedStore();

  // Stores `message` for its topic; an empty payload deletes it (§3.3.1.3).
  void put(const MessagePtr& message);
  // Appends the retained messages whose topic matches `filter`.
  void match(std::string_view filter, std::vector<MessagePtr>& out) const;
  std::size_t size() const;

 private:
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>> children;
    MessagePtr message;
  };
  static void collect_all(const Node& node, bool skip_dollar, std::vector<MessagePtr>& out);
  static void match_node(const Node& node, std::string_view rest, bool at_end, bool root,
                         std::vector<MessagePtr>& out);

  mutable std::shared_mutex mutex_;
  std::unique_ptr<Node> root_;  // guarded by mutex_
  std::size_t size_ = 0;        // guarded by mutex_
};

}  // namespace allscene::broker
