// Editing traces (josephg/editing-traces format, see the README beside the
// data): loading a gzipped trace and replaying it through TextDoc. Used by
// the tests and the benchmark, not by the service.
//
// Errors: load() throws std::runtime_error for an unreadable or malformed
// file (test and benchmark set-up only).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "services/docs/text_doc.hpp"

namespace allscene::services::docs {

struct TracePatch {
  size_t pos = 0;
  size_t removed = 0;
  std::u32string inserted;
};

struct TraceTxn {
  std::vector<size_t> parents;  // concurrent traces only
  size_t agent = 0;
  std::vector<TracePatch> patches;
};

struct EditingTrace {
  bool concurrent = false;
  size_t agents = 1;
  std::string end_content;
  std::vector<TraceTxn> txns;
  size_t edit_count() const;
};

EditingTrace load_trace(const std::filesystem::path& gz_json);

// Applies a sequential trace as local edits of one replica.
void replay_sequential(const EditingTrace& trace, TextDoc& doc);

// Replays a concurrent trace: one replica per agent, each transaction
// applied on its agent's replica after merging in exactly its parents'
// operations; returns the merge of every replica.
TextDoc replay_concurrent(const EditingTrace& trace);

}  // namespace allscene::services::docs
