// A replicated text document: a sequence CRDT after RGA (Roh et al. 2011)
// with run-length-encoded items, as in docs/services/docs.md.
//
// Every operation has an id (agent, seq): each agent numbers its own
// operations 0, 1, 2, … with no gaps, one number per inserted or deleted
// character, and a Lamport timestamp that is greater than every timestamp
// its author had seen. An insert names its left origin (the character it
// was typed after, or the document start); concurrent inserts after the
// same origin are ordered by descending (lamport, agent). A delete names
// the ids of the characters it removes; they stay as tombstones. Replicas
// that have applied the same set of operations hold the same text,
// whatever order they arrived in.
//
// Positions and lengths count Unicode code points; text in and out is
// UTF-8.
//
// Errors: local edits with a position past the end are programmer errors
// (std::out_of_range); remote operations that break the rules above are
// refused with ApplyResult::error and leave the document as it was before
// that operation.
//
// Threading: none; a TextDoc is used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace allscene::services::docs {

// Per agent, how many of its operations are known (the next seq expected).
using Version = std::map<std::string, uint64_t>;

struct OpId {
  std::string agent;
  uint64_t seq = 0;
  bool operator==(const OpId&) const = default;
};

// A run of `len` consecutive operations of one agent, seq .. seq+len-1,
// with Lamport timestamps lamport .. lamport+len-1.
//  - insert: `text` holds `len` code points; the first is typed after
//    `origin` (nullopt: the document start), each following one after the
//    one before it.
//  - remove: operation seq+i deletes the character target.seq+i of
//    target.agent (target.seq-i when `backward`: a run of backspaces).
struct OpRun {
  enum class Kind : uint8_t { insert, remove };
  Kind kind = Kind::insert;
  std::string agent;
  uint64_t seq = 0;
  uint64_t len = 0;
  uint64_t lamport = 0;
  std::optional<OpId> origin;  // insert only
  std::u32string text;         // insert only
  OpId target;                 // remove only
  bool backward = false;       // remove only
  bool operator==(const OpRun&) const = default;
};

// Operations in an order where each one's dependencies come before it (as
// updates_since produces them); apply() also takes any other order.
struct Update {
  std::vector<OpRun> ops;
  bool empty() const { return ops.empty(); }
};

struct ApplyResult {
  size_t applied = 0;     // runs (or parts of runs) newly applied
  size_t duplicates = 0;  // runs already known
  size_t pending = 0;     // runs waiting for operations not yet seen
  std::string error;      // non-empty: an invalid run was refused
  bool ok() const { return error.empty(); }
};

// Largest sequence numbers and timestamps accepted (well inside 64 bits,
// so sums never overflow).
inline constexpr uint64_t kMaxCounter = uint64_t{1} << 48;

class TextDoc {
 public:
  // `local_agent` names this replica's own edits; it must differ from
  // every other replica's agent name.
  explicit TextDoc(std::string local_agent);
  TextDoc(const TextDoc&) = default;
  TextDoc& operator=(const TextDoc&) = default;

  const std::string& local_agent() const { return agents_[0].name; }

  // Local edits by position (code points). pos <= length(), and for
  // remove pos + count <= length(); otherwise std::out_of_range. Inserted
  // text may not contain U+0000 (std::invalid_argument).
  void insert(size_t pos, std::u32string_view text);
  void insert_utf8(size_t pos, std::string_view utf8);  // utf8 must be valid
  void remove(size_t pos, size_t count);

  size_t length() const { return visible_; }
  std::string text() const;
  std::u32string text32() const;

  Version version() const;
  // The operations known here and not covered by `known`, in causal order;
  // with `upto`, only operations also covered by `upto`.
  Update updates_since(const Version& known, const Version* upto = nullptr) const;
  // Applies remote operations: duplicates are skipped, runs whose
  // dependencies are missing wait (pending) until they arrive.
  ApplyResult apply(const Update& update);
  size_t pending() const { return pending_count_; }
  void drop_pending() {
    waiting_.clear();
    pending_count_ = 0;
  }
  // Number of internal items (runs of characters), for tests and benches.
  size_t item_count() const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kMaxBlock = 128;

  // 24 bytes: the deleted flag shares a word with the agent index.
  struct Item {
    uint32_t agent : 31;
    uint32_t deleted : 1;
    uint32_t len;
    uint64_t seq;
    uint64_t lamport;
  };
  struct Block {
    Block() { items.reserve(kMaxBlock + 2); }  // full size at once: splits leave no slack
    std::vector<Item> items;
    size_t visible = 0;
    uint32_t prev = kNone;
    uint32_t next = kNone;
  };
  struct Loc {
    uint32_t block;
    size_t index;
    uint64_t offset;
  };
  struct Agent {
    std::string name;
    uint64_t next_seq = 0;
    uint64_t last_lamport = 0;
    std::u32string chars;                 // by seq; 0 at delete operations
    std::map<uint64_t, uint32_t> starts;  // item start seq -> block
    std::vector<uint32_t> log;            // indexes into log_, in seq order
  };
  struct LogEntry {
    bool insert;
    bool has_ref;   // insert: has an origin; remove: always
    bool backward;  // remove: targets run downwards
    uint32_t agent;
    uint32_t ref_agent;
    uint64_t seq;
    uint64_t len;
    uint64_t lamport;
    uint64_t ref_seq;  // origin or first target
  };
  enum class Readiness { ready, duplicate, waiting };
  // What a waiting run waits for: `agent` to have `count` operations.
  struct Need {
    std::string agent;
    uint64_t count = 0;
  };

  uint32_t agent_index(const std::string& name);
  std::optional<uint32_t> find_agent(const std::string& name) const;

  Loc find_visible(size_t pos);
  std::optional<Loc> find_id(uint32_t agent, uint64_t seq) const;
  Loc split_item(Loc at);
  Loc insert_item(Loc at, const Item& item);  // returns where it went
  uint32_t split_block(uint32_t block);
  void mark_deleted(Loc at, uint64_t count);
  bool remote_precedes(const Item& item, uint64_t offset, uint64_t lamport,
                       const std::string& agent) const;

  void append_log(const LogEntry& entry);
  void remove_by_id(uint32_t agent, uint64_t seq, uint64_t count, bool backward);
  Readiness readiness(const OpRun& op, Need& need) const;
  bool integrate_or_wait(OpRun op, ApplyResult& result);
  std::string apply_one(OpRun op);
  std::string integrate_insert(const OpRun& op, uint32_t agent);
  std::string check_targets(const OpRun& op) const;
  std::string check_known_part(const OpRun& op) const;
  void maybe_split(uint32_t block);
  Loc normalized(Loc at) const;
  OpRun to_op(const LogEntry& entry) const;

  std::vector<Agent> agents_;
  std::unordered_map<std::string, uint32_t> agent_ids_;
  std::vector<Block> blocks_;
  uint32_t head_ = 0;
  size_t visible_ = 0;
  uint64_t clock_ = 0;  // highest Lamport timestamp seen
  std::vector<LogEntry> log_;
  // Runs waiting for operations not yet seen, by what they wait for: agent
  // name -> (operation count needed -> run). A run is looked at again only
  // when its agent advances, so out-of-order delivery costs O(n log n).
  std::unordered_map<std::string, std::multimap<uint64_t, OpRun>> waiting_;
  size_t pending_count_ = 0;
  // Position cache: a block and the visible characters before it.
  uint32_t cache_block_ = kNone;
  size_t cache_start_ = 0;
};

// UTF-8 helpers shared with the encoding; decode returns nullopt on
// invalid UTF-8 (overlong forms, surrogates, values past U+10FFFF).
std::optional<std::u32string> utf8_to_u32(std::string_view utf8);
std::string u32_to_utf8(std::u32string_view text);

}  // namespace allscene::services::docs
