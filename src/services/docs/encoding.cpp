#include "services/docs/encoding.hpp"

#include <unordered_map>
#include <vector>

namespace allscene::services::docs {

namespace {

// How a run is written: the low two bits of its header.
enum RunKind : uint64_t { kInsertAtStart = 0, kInsertAfter = 1, kDeleteUp = 2, kDeleteDown = 3 };

// Values far below the 64-bit range, so sums of them never overflow.
constexpr int64_t kMaxDelta = int64_t{1} << 50;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_signed(std::string& out, int64_t v) {
  put_varint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

int64_t diff(uint64_t value, uint64_t expected) {
  return static_cast<int64_t>(value) - static_cast<int64_t>(expected);
}

// What the next run of an agent and the next delete are expected to look
// like; runs are written as differences from it.
struct Predictor {
  std::vector<uint64_t> next_seq;  // by agent index
  uint64_t next_lamport = 0;
  uint64_t next_target = 0;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  size_t remaining() const { return bytes_.size() - pos_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (remaining() == 0) {
        fail("truncated number");
        return 0;
      }
      const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
      if (shift == 63 && byte > 1) break;
      v |= uint64_t{byte & 0x7Fu} << shift;
      if ((byte & 0x80) == 0) return v;
    }
    fail("number longer than 64 bits");
    return 0;
  }
  // A value below `limit`.
  uint64_t bounded(uint64_t limit, const char* what) {
    const uint64_t v = varint();
    if (!failed() && v >= limit) fail(std::string(what) + " out of range");
    return failed() ? 0 : v;
  }
  // expected + a signed difference, kept within [0, kMaxCounter).
  uint64_t relative(uint64_t expected, const char* what) {
    const uint64_t raw = varint();
    const auto delta = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
    if (failed()) return 0;
    if (delta > kMaxDelta || delta < -kMaxDelta) {
      fail(std::string(what) + " out of range");
      return 0;
    }
    const int64_t v = static_cast<int64_t>(expected) + delta;
    if (v < 0 || static_cast<uint64_t>(v) >= kMaxCounter) {
      fail(std::string(what) + " out of range");
      return 0;
    }
    return static_cast<uint64_t>(v);
  }
  std::string_view bytes(uint64_t n) {
    if (failed()) return {};
    if (n > remaining()) {
      fail("truncated bytes");
      return {};
    }
    auto out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  std::string error_;
};

void encode_run(std::string& out, const OpRun& op, uint32_t agent,
                const std::unordered_map<std::string, uint32_t>& index, Predictor& p) {
  uint64_t kind = kInsertAtStart;
  if (op.kind == OpRun::Kind::insert) {
    kind = op.origin ? kInsertAfter : kInsertAtStart;
  } else {
    kind = op.backward ? kDeleteDown : kDeleteUp;
  }
  put_varint(out, uint64_t{agent} * 4 + kind);
  put_signed(out, diff(op.seq, p.next_seq[agent]));
  put_varint(out, op.len);
  put_signed(out, diff(op.lamport, p.next_lamport));
  p.next_seq[agent] = op.seq + op.len;
  p.next_lamport = op.lamport + op.len;
  if (op.kind == OpRun::Kind::insert) {
    if (op.origin) {
      put_varint(out, index.at(op.origin->agent));
      put_signed(out, diff(op.origin->seq + 1, op.seq));
    }
    const std::string utf8 = u32_to_utf8(op.text);
    put_varint(out, utf8.size());
    out += utf8;
  } else {
    put_varint(out, index.at(op.target.agent));
    put_signed(out, diff(op.target.seq, p.next_target));
    p.next_target = op.backward ? op.target.seq - op.len : op.target.seq + op.len;
  }
}

}  // namespace

std::string encode(const Update& update) {
  std::vector<const std::string*> names;
  std::unordered_map<std::string, uint32_t> index;
  auto add = [&](const std::string& name) {
    if (index.emplace(name, static_cast<uint32_t>(names.size())).second) names.push_back(&name);
  };
  for (const OpRun& op : update.ops) {
    add(op.agent);
    if (op.kind == OpRun::Kind::insert && op.origin) add(op.origin->agent);
    if (op.kind == OpRun::Kind::remove) add(op.target.agent);
  }
  std::string out;
  out.push_back(static_cast<char>(kFormatTag));
  put_varint(out, names.size());
  for (const std::string* name : names) {
    put_varint(out, name->size());
    out += *name;
  }
  put_varint(out, update.ops.size());
  Predictor p;
  p.next_seq.assign(names.size(), 0);
  for (const OpRun& op : update.ops) encode_run(out, op, index.at(op.agent), index, p);
  return out;
}

namespace {

bool decode_run(Reader& in, const std::vector<std::string>& agents, Predictor& p, OpRun& op) {
  const uint64_t head = in.bounded(uint64_t{agents.size()} * 4, "agent index");
  if (in.failed()) return false;
  const auto agent = static_cast<uint32_t>(head / 4);
  const uint64_t kind = head % 4;
  op.agent = agents[agent];
  op.seq = in.relative(p.next_seq[agent], "sequence number");
  op.len = in.bounded(kMaxCounter - op.seq, "run length");
  op.lamport = in.relative(p.next_lamport, "timestamp");
  if (in.failed()) return false;
  if (op.len == 0 || op.lamport + op.len >= kMaxCounter) {
    in.fail("empty run or timestamp out of range");
    return false;
  }
  p.next_seq[agent] = op.seq + op.len;
  p.next_lamport = op.lamport + op.len;
  if (kind == kInsertAtStart || kind == kInsertAfter) {
    op.kind = OpRun::Kind::insert;
    if (kind == kInsertAfter) {
      const uint64_t origin_agent = in.bounded(agents.size(), "origin agent");
      const uint64_t next = in.relative(op.seq, "origin");
      if (in.failed()) return false;
      if (next == 0) {
        in.fail("origin out of range");
        return false;
      }
      op.origin = OpId{agents[origin_agent], next - 1};
    }
    const uint64_t size = in.varint();
    if (in.failed() || size > in.remaining() || size < op.len) {
      in.fail("truncated or short insert text");
      return false;
    }
    auto text = utf8_to_u32(in.bytes(size));
    if (!text || text->size() != op.len) {
      in.fail("insert text is not valid UTF-8 of the run's length");
      return false;
    }
    op.text = std::move(*text);
  } else {
    op.kind = OpRun::Kind::remove;
    op.backward = kind == kDeleteDown;
    const uint64_t target_agent = in.bounded(agents.size(), "delete agent");
    op.target.seq = in.relative(p.next_target, "delete target");
    if (in.failed()) return false;
    op.target.agent = agents[target_agent];
    if (op.backward && op.target.seq + 1 < op.len) {
      in.fail("backward delete below zero");
      return false;
    }
    p.next_target = op.backward ? op.target.seq - op.len : op.target.seq + op.len;
  }
  return true;
}

}  // namespace

DecodeResult decode(std::string_view bytes) {
  DecodeResult result;
  Reader in(bytes);
  if (bytes.empty() || static_cast<unsigned char>(bytes[0]) != kFormatTag) {
    result.error = "not a docs update (unknown format tag)";
    return result;
  }
  in.bytes(1);
  const uint64_t agent_count = in.bounded(in.remaining() / 2 + 1, "agent count");
  std::vector<std::string> agents;
  std::unordered_map<std::string_view, bool> seen;
  for (uint64_t i = 0; i < agent_count && !in.failed(); ++i) {
    const uint64_t size = in.bounded(kMaxAgentName + 1, "agent name length");
    std::string_view name = in.bytes(size);
    if (in.failed()) break;
    if (name.empty()) in.fail("empty agent name");
    agents.emplace_back(name);
  }
  for (const std::string& name : agents) {
    if (!seen.emplace(name, true).second) in.fail("agent named twice");
  }
  // A run takes at least four bytes, which bounds the count before reserving.
  const uint64_t op_count = in.bounded(in.remaining() / 4 + 1, "run count");
  Predictor p;
  p.next_seq.assign(agents.size(), 0);
  if (!in.failed()) result.update.ops.reserve(op_count);
  for (uint64_t i = 0; i < op_count && !in.failed(); ++i) {
    OpRun op;
    if (decode_run(in, agents, p, op)) result.update.ops.push_back(std::move(op));
  }
  if (!in.failed() && in.remaining() != 0) in.fail("trailing bytes after the last run");
  if (in.failed()) {
    result.error = "malformed docs update: " + in.error();
    result.update.ops.clear();
  }
  return result;
}

}  // namespace allscene::services::docs
