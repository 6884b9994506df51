// The "docs" cloud service: shared text documents that a person's devices
// edit at once, online or offline, and that always converge (TextDoc).
// Operations (JSON in and out, docs/services/docs.md):
//   create {title}                       -> {id, title}
//   list                                 -> [{id, title, length, updated}]
//   get    {id}                          -> {id, title, text, length, version}
//   sync   {id, version?, update?}       -> {update, version[, unapplied]}
//   edit   {id, ops:[{at, insert}|{at, delete}]} -> {version, length}
//   delete {id}                          -> {id, deleted}
// `update` is the base64 of the binary encoding (encoding.hpp); `version`
// maps agent names to operation counts. Documents belong to caller.user;
// another user's document answers 404 like a missing one. Every change is
// committed to ctx.state_dir/docs.sqlite before the reply, then published
// to users/{user}/docs/{id} for the owner's other devices.
//
// Devices edit as their own agent (their device id is a good name); the
// hub's own edits (the `edit` operation) use the agent "hub", which devices
// may not use.
//
// Threading: call() is thread-safe; one lock serialises the operations.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "services/docs/doc_store.hpp"
#include "services/docs/text_doc.hpp"
#include "services/service.hpp"

namespace allscene::services::docs {

struct DocsLimits {
  size_t max_document_chars = 1'000'000;  // visible code points
  size_t max_update_bytes = 1 << 20;      // one binary update
  size_t max_edit_ops = 1000;
  size_t max_title_chars = 200;
  size_t max_documents_per_user = 1000;
  size_t compact_every = 200;    // updates before a new snapshot
  size_t cached_documents = 64;  // documents kept in memory
};

inline constexpr const char* kHubAgent = "hub";

class DocsService final : public Service {
 public:
  // Opens (or creates) the store in ctx.state_dir; throws
  // std::runtime_error if it cannot.
  explicit DocsService(ServiceContext ctx, DocsLimits limits = {});
  ~DocsService() override;

  std::string_view name() const override { return "docs"; }
  std::vector<std::string> operations() const override;
  Reply call(const Caller& caller, std::string_view operation,
             const nlohmann::json& request) override;

 private:
  struct OpenDoc {
    DocumentInfo info;
    TextDoc doc{kHubAgent};
    size_t updates_since_snapshot = 0;
  };
  struct Outcome;  // a reply and what to publish once the lock is released

  Outcome dispatch(const std::string& user, const Caller& caller, std::string_view operation,
                   const nlohmann::json& request);
  Outcome create(const std::string& user, const nlohmann::json& request);
  Outcome list(const std::string& user);
  Outcome get(const std::string& user, const nlohmann::json& request);
  Outcome sync(const std::string& user, const Caller& caller, const nlohmann::json& request);
  Outcome edit(const std::string& user, const Caller& caller, const nlohmann::json& request);
  Outcome remove(const std::string& user, const nlohmann::json& request);

  // The caller's document, loaded into the cache; nullptr with `error` set.
  OpenDoc* open(const std::string& user, const nlohmann::json& request, Reply& error);
  // Commits the operations `doc` gained since `before`; sets `error` (500)
  // and forgets the cached copy when the store fails.
  bool commit(OpenDoc& doc, const Version& before, std::string& encoded, Reply& error);

  ServiceContext ctx_;
  DocsLimits limits_;
  std::mutex mutex_;
  DocStore store_;                                                   // guarded by mutex_
  std::unordered_map<std::string, std::unique_ptr<OpenDoc>> cache_;  // guarded by mutex_
};

}  // namespace allscene::services::docs
