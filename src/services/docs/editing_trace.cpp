#include "services/docs/editing_trace.hpp"

#include <zlib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace allscene::services::docs {

namespace {

std::string read_gzip(const std::filesystem::path& path) {
  std::unique_ptr<gzFile_s, decltype(&gzclose)> file(gzopen(path.c_str(), "rb"), &gzclose);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::string out;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file.get(), buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  if (n < 0) throw std::runtime_error("cannot decompress " + path.string());
  return out;
}

std::u32string to_u32(const std::string& utf8) {
  auto text = utf8_to_u32(utf8);
  if (!text) throw std::runtime_error("trace text is not valid UTF-8");
  return *text;
}

std::string agent_name(size_t agent) { return "agent" + std::to_string(agent); }

Version merged(const std::vector<Version>& versions, const std::vector<size_t>& parents) {
  Version out;
  for (size_t p : parents) {
    for (const auto& [agent, seq] : versions.at(p)) out[agent] = std::max(out[agent], seq);
  }
  return out;
}

bool covered_by(const Version& v, const Version& bound) {
  for (const auto& [agent, seq] : v) {
    auto it = bound.find(agent);
    if (seq > (it == bound.end() ? 0 : it->second)) return false;
  }
  return true;
}

void apply_patches(const TraceTxn& txn, TextDoc& doc) {
  for (const TracePatch& patch : txn.patches) {
    if (patch.removed > 0) doc.remove(patch.pos, patch.removed);
    if (!patch.inserted.empty()) doc.insert(patch.pos, patch.inserted);
  }
}

}  // namespace

size_t EditingTrace::edit_count() const {
  size_t n = 0;
  for (const TraceTxn& txn : txns) n += txn.patches.size();
  return n;
}

EditingTrace load_trace(const std::filesystem::path& gz_json) {
  const auto json = nlohmann::json::parse(read_gzip(gz_json));
  EditingTrace trace;
  trace.concurrent = json.value("kind", "") == "concurrent";
  trace.agents = json.value("numAgents", size_t{1});
  trace.end_content = json.at("endContent").get<std::string>();
  const auto& txns = json.at("txns");
  trace.txns.reserve(txns.size());
  for (const auto& t : txns) {
    TraceTxn txn;
    if (t.contains("parents")) txn.parents = t.at("parents").get<std::vector<size_t>>();
    txn.agent = t.value("agent", size_t{0});
    for (const auto& p : t.at("patches")) {
      txn.patches.push_back(
          {p.at(0).get<size_t>(), p.at(1).get<size_t>(), to_u32(p.at(2).get<std::string>())});
    }
    trace.txns.push_back(std::move(txn));
  }
  return trace;
}

void replay_sequential(const EditingTrace& trace, TextDoc& doc) {
  for (const TraceTxn& txn : trace.txns) apply_patches(txn, doc);
}

TextDoc replay_concurrent(const EditingTrace& trace) {
  std::vector<TextDoc> replicas;
  for (size_t a = 0; a < trace.agents; ++a) replicas.emplace_back(agent_name(a));
  std::vector<Version> versions;
  versions.reserve(trace.txns.size());
  for (size_t i = 0; i < trace.txns.size(); ++i) {
    const TraceTxn& txn = trace.txns[i];
    for (size_t p : txn.parents) {
      if (p >= i) throw std::runtime_error("trace parent after its child");
    }
    const Version target = merged(versions, txn.parents);
    TextDoc& doc = replicas.at(txn.agent);
    if (!covered_by(doc.version(), target)) {
      throw std::runtime_error("trace forks an agent from an older state of its own");
    }
    for (const TextDoc& other : replicas) {
      if (&other == &doc) continue;
      const ApplyResult r = doc.apply(other.updates_since(doc.version(), &target));
      if (!r.ok()) throw std::runtime_error("replay: " + r.error);
    }
    if (doc.version() != target) throw std::runtime_error("replay could not reach a parent state");
    apply_patches(txn, doc);
    versions.push_back(doc.version());
  }
  TextDoc all(agent_name(trace.agents));
  for (const TextDoc& replica : replicas) {
    const ApplyResult r = all.apply(replica.updates_since(all.version()));
    if (!r.ok() || r.pending > 0)
      throw std::runtime_error("merge of the replicas failed: " + r.error);
  }
  return all;
}

}  // namespace allscene::services::docs
