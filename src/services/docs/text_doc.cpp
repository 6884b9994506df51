#include "services/docs/text_doc.hpp"

#include <algorithm>
#include <stdexcept>

namespace allscene::services::docs {

namespace {

// Runs longer than this are refused (an item's length is 32 bits).
constexpr uint64_t kMaxRun = uint64_t{1} << 31;
// How far past the highest timestamp seen a remote run may start: an honest
// author's timestamp never exceeds the number of operations there are, so
// this only stops a peer from exhausting the timestamp space for everyone.
constexpr uint64_t kMaxClockJump = uint64_t{1} << 32;
// Remote runs that may wait for their dependencies at once.
constexpr size_t kMaxPending = 100000;

// Drops the first `known - op.seq` operations of `op` (already applied).
void trim_front(OpRun& op, uint64_t known) {
  if (known <= op.seq) return;
  const uint64_t drop = known - op.seq;
  if (op.kind == OpRun::Kind::insert) {
    op.origin = OpId{op.agent, known - 1};
    op.text.erase(0, drop);
  } else {
    op.target.seq = op.backward ? op.target.seq - drop : op.target.seq + drop;
  }
  op.seq += drop;
  op.lamport += drop;
  op.len -= drop;
}

// Keeps only the operations before `limit`.
void trim_back(OpRun& op, uint64_t limit) {
  if (op.seq + op.len <= limit) return;
  op.len = limit - op.seq;
  if (op.kind == OpRun::Kind::insert) op.text.resize(op.len);
}

}  // namespace

TextDoc::TextDoc(std::string local_agent) {
  agent_index(local_agent);
  blocks_.emplace_back();
}

uint32_t TextDoc::agent_index(const std::string& name) {
  auto [it, added] = agent_ids_.emplace(name, static_cast<uint32_t>(agents_.size()));
  if (added) agents_.push_back(Agent{name, 0, 0, {}, {}, {}});
  return it->second;
}

std::optional<uint32_t> TextDoc::find_agent(const std::string& name) const {
  auto it = agent_ids_.find(name);
  if (it == agent_ids_.end()) return std::nullopt;
  return it->second;
}

size_t TextDoc::item_count() const {
  size_t count = 0;
  for (uint32_t b = head_; b != kNone; b = blocks_[b].next) count += blocks_[b].items.size();
  return count;
}

// ---- the item list -------------------------------------------------------

TextDoc::Loc TextDoc::find_visible(size_t pos) {
  uint32_t b = head_;
  size_t start = 0;
  if (cache_block_ != kNone) {
    b = cache_block_;
    start = cache_start_;
  }
  while (pos < start) {
    b = blocks_[b].prev;
    start -= blocks_[b].visible;
  }
  while (pos >= start + blocks_[b].visible) {
    start += blocks_[b].visible;
    b = blocks_[b].next;
  }
  cache_block_ = b;
  cache_start_ = start;
  uint64_t rest = pos - start;
  const auto& items = blocks_[b].items;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].deleted) continue;
    if (rest < items[i].len) return Loc{b, i, rest};
    rest -= items[i].len;
  }
  throw std::logic_error("TextDoc: block visible count out of step");
}

std::optional<TextDoc::Loc> TextDoc::find_id(uint32_t agent, uint64_t seq) const {
  const auto& starts = agents_[agent].starts;
  auto it = starts.upper_bound(seq);
  if (it == starts.begin()) return std::nullopt;
  --it;
  const uint32_t b = it->second;
  const auto& items = blocks_[b].items;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    if (item.agent == agent && item.seq <= seq && seq < item.seq + item.len) {
      return Loc{b, i, seq - item.seq};
    }
  }
  return std::nullopt;  // `seq` is one of the agent's deletes
}

// Splits the item at `at` before `at.offset` (0 < offset < len); returns
// the location of the second half.
TextDoc::Loc TextDoc::split_item(Loc at) {
  auto& items = blocks_[at.block].items;
  Item tail = items[at.index];
  tail.seq += at.offset;
  tail.lamport += at.offset;
  tail.len -= static_cast<uint32_t>(at.offset);
  items[at.index].len = static_cast<uint32_t>(at.offset);
  items.insert(items.begin() + static_cast<std::ptrdiff_t>(at.index) + 1, tail);
  agents_[tail.agent].starts[tail.seq] = at.block;
  return Loc{at.block, at.index + 1, 0};
}

// Inserts `item` before the item at `at` (offset 0), joining it to the
// item before when they continue one run.
TextDoc::Loc TextDoc::insert_item(Loc at, const Item& item) {
  Block& block = blocks_[at.block];
  if (!item.deleted) {
    block.visible += item.len;
    visible_ += item.len;
  }
  if (at.block != cache_block_) cache_block_ = kNone;
  if (at.index > 0) {
    Item& prev = block.items[at.index - 1];
    if (prev.agent == item.agent && prev.deleted == item.deleted &&
        prev.seq + prev.len == item.seq && prev.lamport + prev.len == item.lamport &&
        uint64_t{prev.len} + item.len < kMaxRun) {
      prev.len += item.len;
      return Loc{at.block, at.index - 1, 0};
    }
  }
  block.items.insert(block.items.begin() + static_cast<std::ptrdiff_t>(at.index), item);
  agents_[item.agent].starts[item.seq] = at.block;
  return at;
}

void TextDoc::maybe_split(uint32_t block) {
  if (blocks_[block].items.size() > kMaxBlock) split_block(block);
}

uint32_t TextDoc::split_block(uint32_t b) {
  const auto fresh = static_cast<uint32_t>(blocks_.size());
  blocks_.emplace_back();
  Block& block = blocks_[b];
  Block& next = blocks_[fresh];
  const size_t half = block.items.size() / 2;
  next.items.assign(block.items.begin() + static_cast<std::ptrdiff_t>(half), block.items.end());
  block.items.resize(half);
  for (const Item& item : next.items) {
    if (!item.deleted) next.visible += item.len;
    agents_[item.agent].starts[item.seq] = fresh;
  }
  block.visible -= next.visible;
  next.prev = b;
  next.next = block.next;
  if (block.next != kNone) blocks_[block.next].prev = fresh;
  block.next = fresh;
  return fresh;
}

// Marks `count` characters from `at` deleted; they lie in one item.
void TextDoc::mark_deleted(Loc at, uint64_t count) {
  if (blocks_[at.block].items[at.index].deleted) return;
  if (at.offset > 0) at = split_item(at);
  if (count < blocks_[at.block].items[at.index].len) split_item(Loc{at.block, at.index, count});
  Block& block = blocks_[at.block];
  block.items[at.index].deleted = true;
  block.visible -= count;
  visible_ -= count;
  if (at.block != cache_block_) cache_block_ = kNone;
  maybe_split(at.block);
}

TextDoc::Loc TextDoc::normalized(Loc at) const {
  for (;;) {
    const Block& block = blocks_[at.block];
    if (at.index < block.items.size() && at.offset == block.items[at.index].len) {
      ++at.index;
      at.offset = 0;
      continue;
    }
    if (at.index == block.items.size() && block.next != kNone) {
      at = Loc{block.next, 0, 0};
      continue;
    }
    return at;
  }
}

// True when the character `offset` of `item` goes before a new insert with
// these (lamport, agent): RGA puts the higher (lamport, agent) first.
bool TextDoc::remote_precedes(const Item& item, uint64_t offset, uint64_t lamport,
                              const std::string& agent) const {
  const uint64_t theirs = item.lamport + offset;
  if (theirs != lamport) return theirs > lamport;
  return agents_[item.agent].name > agent;
}

// ---- local edits -----------------------------------------------------------

void TextDoc::insert(size_t pos, std::u32string_view text) {
  if (pos > visible_) throw std::out_of_range("TextDoc::insert: position past the end");
  if (text.empty()) return;
  if (text.size() >= kMaxRun) throw std::length_error("TextDoc::insert: text too long");
  // NUL marks deletes in the per-agent character arrays.
  if (text.find(U'\0') != std::u32string_view::npos)
    throw std::invalid_argument("TextDoc::insert: NUL character");
  Agent& me = agents_[0];
  const uint64_t seq = me.next_seq;
  const uint64_t lamport = clock_ + 1;
  const auto len = static_cast<uint32_t>(text.size());
  const Item item{0, false, len, seq, lamport};
  LogEntry entry{true, false, false, 0, 0, seq, len, lamport, 0};
  if (pos == 0) {
    maybe_split(insert_item(Loc{head_, 0, 0}, item).block);
  } else {
    Loc at = find_visible(pos - 1);
    Item& before = blocks_[at.block].items[at.index];
    entry.has_ref = true;
    entry.ref_agent = before.agent;
    entry.ref_seq = before.seq + at.offset;
    if (at.offset + 1 < before.len) {
      at = split_item(Loc{at.block, at.index, at.offset + 1});
    } else {
      at = Loc{at.block, at.index + 1, 0};
    }
    maybe_split(insert_item(at, item).block);
  }
  agents_[0].chars.append(text);
  agents_[0].next_seq += len;
  clock_ += len;
  agents_[0].last_lamport = clock_;
  append_log(entry);
}

void TextDoc::insert_utf8(size_t pos, std::string_view utf8) {
  auto text = utf8_to_u32(utf8);
  if (!text) throw std::invalid_argument("TextDoc::insert_utf8: invalid UTF-8");
  insert(pos, *text);
}

void TextDoc::remove(size_t pos, size_t count) {
  if (pos > visible_ || count > visible_ - pos) {
    throw std::out_of_range("TextDoc::remove: range past the end");
  }
  while (count > 0) {
    const Loc at = find_visible(pos);
    const Item item = blocks_[at.block].items[at.index];
    const uint64_t take = std::min<uint64_t>(count, item.len - at.offset);
    mark_deleted(at, take);
    Agent& me = agents_[0];
    const LogEntry entry{
        false, true, false, 0, item.agent, me.next_seq, take, clock_ + 1, item.seq + at.offset};
    me.chars.append(take, U'\0');
    me.next_seq += take;
    clock_ += take;
    me.last_lamport = clock_;
    append_log(entry);
    count -= take;
  }
}

void TextDoc::append_log(const LogEntry& e) {
  if (!log_.empty()) {
    LogEntry& last = log_.back();
    const bool continues = last.agent == e.agent && last.insert == e.insert &&
                           last.seq + last.len == e.seq && last.lamport + last.len == e.lamport;
    if (continues && e.insert && e.has_ref && e.ref_agent == e.agent && e.ref_seq + 1 == e.seq) {
      last.len += e.len;
      return;
    }
    if (continues && !e.insert && last.ref_agent == e.ref_agent) {
      const bool forward = !last.backward && last.ref_seq + last.len == e.ref_seq;
      const bool backward = (last.backward || last.len == 1) && e.len == 1 &&
                            last.ref_seq >= last.len && last.ref_seq - last.len == e.ref_seq;
      if (forward || backward) {
        last.backward = backward;
        last.len += e.len;
        return;
      }
    }
  }
  agents_[e.agent].log.push_back(static_cast<uint32_t>(log_.size()));
  log_.push_back(e);
}

// ---- text and versions -------------------------------------------------------

std::u32string TextDoc::text32() const {
  std::u32string out;
  out.reserve(visible_);
  for (uint32_t b = head_; b != kNone; b = blocks_[b].next) {
    for (const Item& item : blocks_[b].items) {
      if (!item.deleted) out.append(agents_[item.agent].chars, item.seq, item.len);
    }
  }
  return out;
}

std::string TextDoc::text() const { return u32_to_utf8(text32()); }

Version TextDoc::version() const {
  Version v;
  for (const Agent& agent : agents_) {
    if (agent.next_seq > 0) v[agent.name] = agent.next_seq;
  }
  return v;
}

OpRun TextDoc::to_op(const LogEntry& e) const {
  OpRun op;
  op.agent = agents_[e.agent].name;
  op.seq = e.seq;
  op.len = e.len;
  op.lamport = e.lamport;
  if (e.insert) {
    op.kind = OpRun::Kind::insert;
    if (e.has_ref) op.origin = OpId{agents_[e.ref_agent].name, e.ref_seq};
    op.text = agents_[e.agent].chars.substr(e.seq, e.len);
  } else {
    op.kind = OpRun::Kind::remove;
    op.target = OpId{agents_[e.ref_agent].name, e.ref_seq};
    op.backward = e.backward;
  }
  return op;
}

Update TextDoc::updates_since(const Version& known, const Version* upto) const {
  std::vector<uint32_t> picked;
  for (const Agent& agent : agents_) {
    auto k = known.find(agent.name);
    const uint64_t from = k == known.end() ? 0 : k->second;
    uint64_t until = agent.next_seq;
    if (upto != nullptr) {
      auto u = upto->find(agent.name);
      until = std::min(until, u == upto->end() ? 0 : u->second);
    }
    if (from >= until) continue;
    auto first = std::partition_point(agent.log.begin(), agent.log.end(), [&](uint32_t i) {
      return log_[i].seq + log_[i].len <= from;
    });
    for (auto it = first; it != agent.log.end() && log_[*it].seq < until; ++it)
      picked.push_back(*it);
  }
  std::sort(picked.begin(), picked.end());
  Update update;
  update.ops.reserve(picked.size());
  for (uint32_t i : picked) {
    OpRun op = to_op(log_[i]);
    auto k = known.find(op.agent);
    if (k != known.end()) trim_front(op, k->second);
    if (upto != nullptr) trim_back(op, upto->at(op.agent));
    update.ops.push_back(std::move(op));
  }
  return update;
}

// ---- remote operations ---------------------------------------------------------

TextDoc::Readiness TextDoc::readiness(const OpRun& op, Need& need) const {
  auto self = find_agent(op.agent);
  const uint64_t known = self ? agents_[*self].next_seq : 0;
  if (op.seq + op.len <= known) return Readiness::duplicate;
  if (op.seq > known) {
    need = Need{op.agent, op.seq};
    return Readiness::waiting;
  }
  auto covered = [&](const OpId& id, uint64_t end) {
    auto a = find_agent(id.agent);
    if (a && end <= agents_[*a].next_seq) return true;
    need = Need{id.agent, end};
    return false;
  };
  if (op.kind == OpRun::Kind::insert) {
    // After trimming, the origin of a partly known run is its own previous
    // character, which is known.
    if (!op.origin || op.seq < known) return Readiness::ready;
    return covered(*op.origin, op.origin->seq + 1) ? Readiness::ready : Readiness::waiting;
  }
  const uint64_t end = op.backward ? op.target.seq + 1 : op.target.seq + op.len;
  return covered(op.target, end) ? Readiness::ready : Readiness::waiting;
}

ApplyResult TextDoc::apply(const Update& update) {
  ApplyResult result;
  for (const OpRun& op : update.ops) {
    if (!integrate_or_wait(op, result)) break;
  }
  result.pending = pending_count_;
  return result;
}

// Applies `op` and every waiting run it unblocks, or parks `op` until what
// it needs arrives. False after an error (recorded in `result`).
bool TextDoc::integrate_or_wait(OpRun first, ApplyResult& result) {
  std::vector<OpRun> work;
  work.push_back(std::move(first));
  while (!work.empty()) {
    OpRun op = std::move(work.back());
    work.pop_back();
    if (auto error = check_known_part(op); !error.empty()) {
      result.error = std::move(error);
      return false;
    }
    Need need;
    switch (readiness(op, need)) {
      case Readiness::duplicate:
        ++result.duplicates;
        continue;
      case Readiness::waiting:
        if (pending_count_ >= kMaxPending) {
          result.error = "too many operations wait for ones not yet received";
          return false;
        }
        waiting_[need.agent].emplace(need.count, std::move(op));
        ++pending_count_;
        continue;
      case Readiness::ready:
        break;
    }
    const std::string agent = op.agent;
    result.error = apply_one(std::move(op));
    if (!result.ok()) return false;
    ++result.applied;
    auto parked = waiting_.find(agent);
    if (parked == waiting_.end()) continue;
    const uint64_t now_known = agents_[*find_agent(agent)].next_seq;
    auto& runs = parked->second;
    for (auto it = runs.begin(); it != runs.end() && it->first <= now_known; it = runs.erase(it)) {
      work.push_back(std::move(it->second));
      --pending_count_;
    }
    if (runs.empty()) waiting_.erase(parked);
  }
  return true;
}

// The part of `op` already known here must be what is known: an agent that
// lost its state and numbers again from 0 would otherwise have its new
// edits taken for duplicates and dropped.
std::string TextDoc::check_known_part(const OpRun& op) const {
  auto self = find_agent(op.agent);
  const bool insert = op.kind == OpRun::Kind::insert;
  if (!self || (insert && op.text.size() != op.len)) return {};  // the latter is refused later
  const std::u32string& chars = agents_[*self].chars;
  const uint64_t end = std::min<uint64_t>(op.seq + op.len, chars.size());
  for (uint64_t s = op.seq; s < end; ++s) {
    if (chars[s] != (insert ? op.text[s - op.seq] : U'\0')) {
      return "operation ids of agent '" + op.agent +
             "' reused for different edits (a device that lost its copy must download the "
             "document before editing, or use a new agent name)";
    }
  }
  return {};
}

std::string TextDoc::check_targets(const OpRun& op) const {
  auto target = find_agent(op.target.agent);
  if (!target) return "delete of an unknown agent's character";
  const uint64_t low = op.backward ? op.target.seq + 1 - op.len : op.target.seq;
  const std::u32string& chars = agents_[*target].chars;
  for (uint64_t s = low; s < low + op.len; ++s) {
    if (s >= chars.size() || chars[s] == U'\0')
      return "delete of something that is not a character";
  }
  return {};
}

std::string TextDoc::apply_one(OpRun op) {
  if (auto self = find_agent(op.agent)) trim_front(op, agents_[*self].next_seq);
  if (op.agent.empty()) return "operation without an agent";
  if (op.len == 0 || op.len >= kMaxRun) return "operation run of a bad length";
  if (op.seq + op.len > kMaxCounter || op.lamport + op.len > kMaxCounter ||
      op.lamport > clock_ + kMaxClockJump) {
    return "sequence number or timestamp too large";
  }
  auto self = find_agent(op.agent);
  if (op.lamport == 0 || (self && op.lamport <= agents_[*self].last_lamport)) {
    return "timestamps of an agent must increase";
  }
  if (op.kind == OpRun::Kind::insert) {
    if (op.text.size() != op.len) return "insert text length differs from its run length";
    if (op.text.find(U'\0') != std::u32string::npos) return "insert of a NUL character";
  } else {
    if (op.backward && op.target.seq + 1 < op.len) return "backward delete below zero";
    if (auto error = check_targets(op); !error.empty()) return error;
  }
  const uint32_t a = agent_index(op.agent);
  if (op.kind == OpRun::Kind::insert) {
    if (auto error = integrate_insert(op, a); !error.empty()) return error;
    agents_[a].chars.append(op.text);
  } else {
    remove_by_id(agent_index(op.target.agent), op.target.seq, op.len, op.backward);
    agents_[a].chars.append(op.len, U'\0');
  }
  Agent& agent = agents_[a];
  agent.next_seq += op.len;
  agent.last_lamport = op.lamport + op.len - 1;
  clock_ = std::max(clock_, agent.last_lamport);
  LogEntry entry{
      op.kind == OpRun::Kind::insert, true, op.backward, a, 0, op.seq, op.len, op.lamport, 0};
  if (op.kind == OpRun::Kind::insert) {
    entry.has_ref = op.origin.has_value();
    if (op.origin) {
      entry.ref_agent = agent_index(op.origin->agent);
      entry.ref_seq = op.origin->seq;
    }
  } else {
    entry.ref_agent = agent_index(op.target.agent);
    entry.ref_seq = op.target.seq;
  }
  append_log(entry);
  return {};
}

std::string TextDoc::integrate_insert(const OpRun& op, uint32_t agent) {
  Loc at{head_, 0, 0};
  if (op.origin) {
    auto origin_agent = find_agent(op.origin->agent);
    auto origin = origin_agent ? find_id(*origin_agent, op.origin->seq) : std::nullopt;
    if (!origin) return "insert after something that is not a character";
    const Item& before = blocks_[origin->block].items[origin->index];
    if (before.lamport + origin->offset >= op.lamport) {
      return "insert timestamp not after its origin's";
    }
    at = Loc{origin->block, origin->index, origin->offset + 1};
  }
  // RGA: skip the characters that sort before the new run (later siblings
  // and their descendants); a run's timestamps rise, so skip it whole.
  at = normalized(at);
  while (at.index < blocks_[at.block].items.size()) {
    const Item& item = blocks_[at.block].items[at.index];
    if (!remote_precedes(item, at.offset, op.lamport, op.agent)) break;
    at = normalized(Loc{at.block, at.index + 1, 0});
  }
  if (at.offset > 0) at = split_item(at);
  const Item item{agent, false, static_cast<uint32_t>(op.len), op.seq, op.lamport};
  maybe_split(insert_item(at, item).block);
  return {};
}

void TextDoc::remove_by_id(uint32_t agent, uint64_t seq, uint64_t count, bool backward) {
  uint64_t low = backward ? seq + 1 - count : seq;
  while (count > 0) {
    const Loc at = *find_id(agent, low);
    const Item& item = blocks_[at.block].items[at.index];
    const uint64_t take = std::min<uint64_t>(count, item.len - at.offset);
    mark_deleted(at, take);
    low += take;
    count -= take;
  }
}

// ---- UTF-8 ----------------------------------------------------------------------

std::optional<std::u32string> utf8_to_u32(std::string_view in) {
  std::u32string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return std::nullopt;
    }
    if (in.size() - i <= extra) return std::nullopt;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(in[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

}  // namespace allscene::services::docs
