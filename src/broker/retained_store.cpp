#include "broker/retained_store.hpp"

#include <mutex>

#include "mqtt/topic.hpp"

namespace allscene::broker {
namespace {

bool is_dollar(std::string_view level) { return !level.empty() && level.front() == '$'; }

}  // namespace

RetainedStore::RetainedStore() : root_(std::make_unique<Node>()) {}
RetainedStore::~RetainedStore() = default;

void RetainedStore::put(const MessagePtr& message) {
  std::unique_lock lock(mutex_);
  const bool clear = message->payload.empty();
  // Walk down, remembering the path so empty branches can be pruned.
  std::vector<std::pair<Node*, std::string_view>> path;
  Node* node = root_.get();
  std::string_view rest = message->topic;
  bool at_end = false;
  while (!at_end) {
    const std::string_view level = mqtt::pop_level(rest, at_end);
    auto it = node->children.find(std::string(level));
    if (it == node->children.end()) {
      if (clear) return;
      it = node->children.emplace(std::string(level), std::make_unique<Node>()).first;
    }
    path.emplace_back(node, level);
    node = it->second.get();
  }
  if (clear) {
    if (!node->message) return;
    node->message.reset();
    --size_;
    for (auto p = path.rbegin(); p != path.rend(); ++p) {
      auto it = p->first->children.find(std::string(p->second));
      if (it->second->message || !it->second->children.empty()) break;
      p->first->children.erase(it);
    }
    return;
  }
  if (!node->message) ++size_;
  node->message = message;
}

void RetainedStore::match(std::string_view filter, std::vector<MessagePtr>& out) const {
  std::shared_lock lock(mutex_);
  match_node(*root_, filter, false, true, out);
}

std::size_t RetainedStore::size() const {
  std::shared_lock lock(mutex_);
  return size_;
}

void RetainedStore::collect_all(const Node& node, bool skip_dollar, std::vector<MessagePtr>& out) {
  for (const auto& [level, child] : node.children) {
    if (skip_dollar && is_dollar(level)) continue;
    if (child->message) out.push_back(child->message);
    collect_all(*child, false, out);
  }
}

void RetainedStore::match_node(const Node& node, std::string_view rest, bool at_end, bool root,
                               std::vector<MessagePtr>& out) {
  if (at_end) {
    if (node.message) out.push_back(node.message);
    return;
  }
  const std::string_view level = mqtt::pop_level(rest, at_end);
  if (level == "#") {
    // "a/#" also matches "a" itself (§4.7.1.2).
    if (!root && node.message) out.push_back(node.message);
    collect_all(node, root, out);
    return;
  }
  if (level == "+") {
    for (const auto& [name, child] : node.children) {
      if (root && is_dollar(name)) continue;
      match_node(*child, rest, at_end, false, out);
    }
    return;
  }
  if (auto it = node.children.find(std::string(level)); it != node.children.end()) {
    match_node(*it->second, rest, at_end, false, out);
  }
}

}  // namespace allscene::broker
