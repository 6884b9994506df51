#include "broker/subscription_index.hpp"

#include <algorithm>

#include "mqtt/topic.hpp"

namespace allscene::broker {
namespace {

bool same_owner(const Subscriber& s, const Session* session, const SharedGroup* group) {
  return s.session == session && s.group == group;
}

bool upsert(std::vector<Subscriber>& list, const Subscriber& subscriber) {
  for (auto& s : list) {
    if (same_owner(s, subscriber.session, subscriber.group)) {
      s = subscriber;
      return false;
    }
  }
  list.push_back(subscriber);
  return true;
}

bool remove(std::vector<Subscriber>& list, const Session* session, const SharedGroup* group) {
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const Subscriber& s) { return same_owner(s, session, group); });
  if (it == list.end()) return false;
  *it = list.back();
  list.pop_back();
  return true;
}

}  // namespace

SubscriptionIndex::SubscriptionIndex() : root_(std::make_unique<Node>()) {}
SubscriptionIndex::~SubscriptionIndex() = default;

bool SubscriptionIndex::insert(std::string_view filter, const Subscriber& subscriber) {
  Node* node = root_.get();
  std::string_view rest = filter;
  bool at_end = false;
  while (!at_end) {
    const std::string_view level = mqtt::pop_level(rest, at_end);
    if (level == "#") {
      const bool added = upsert(node->hash, subscriber);
      size_ += added;
      return added;
    }
    std::unique_ptr<Node>* child;
    if (level == "+") {
      child = &node->plus;
    } else {
      auto it = node->children.find(level);
      if (it == node->children.end()) {
        it = node->children.emplace(std::string(level), nullptr).first;
      }
      child = &it->second;
    }
    if (!*child) *child = std::make_unique<Node>();
    node = child->get();
  }
  const bool added = upsert(node->exact, subscriber);
  size_ += added;
  return added;
}

bool SubscriptionIndex::erase(std::string_view filter, const Session* session,
                              const SharedGroup* group) {
  const bool erased = erase_in(*root_, filter, false, session, group);
  size_ -= erased;
  return erased;
}

// Recursive so that empty nodes are pruned on the way back up.
bool SubscriptionIndex::erase_in(Node& node, std::string_view rest, bool at_end,
                                 const Session* session, const SharedGroup* group) {
  if (at_end) return remove(node.exact, session, group);
  const std::string_view level = mqtt::pop_level(rest, at_end);
  if (level == "#") return remove(node.hash, session, group);
  std::unique_ptr<Node>* child = nullptr;
  auto it = node.children.end();
  if (level == "+") {
    child = &node.plus;
  } else {
    it = node.children.find(level);
    if (it != node.children.end()) child = &it->second;
  }
  if (!child || !*child) return false;
  const bool erased = erase_in(**child, rest, at_end, session, group);
  if (erased && (*child)->empty()) {
    if (it != node.children.end()) {
      node.children.erase(it);
    } else {
      child->reset();
    }
  }
  return erased;
}

void SubscriptionIndex::match(std::string_view topic, std::vector<Subscriber>& out) const {
  const bool dollar = !topic.empty() && topic.front() == '$';
  match_node(*root_, topic, false, dollar, out);
}

void SubscriptionIndex::match_node(const Node& node, std::string_view rest, bool at_end,
                                   bool dollar_root, std::vector<Subscriber>& out) const {
  // '#' matches the parent level too ("a/#" matches "a"), except at the
  // root for '$' topics.
  if (!dollar_root) out.insert(out.end(), node.hash.begin(), node.hash.end());
  if (at_end) {
    out.insert(out.end(), node.exact.begin(), node.exact.end());
    return;
  }
  const std::string_view level = mqtt::pop_level(rest, at_end);
  if (auto it = node.children.find(level); it != node.children.end()) {
    match_node(*it->second, rest, at_end, false, out);
  }
  if (node.plus && !dollar_root) match_node(*node.plus, rest, at_end, false, out);
}

}  // namespace allscene::broker
