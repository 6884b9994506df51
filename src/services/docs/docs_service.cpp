#include "services/docs/docs_service.hpp"

#include <sodium.h>

#include <chrono>
#include <ctime>
#include <stdexcept>

#include "services/docs/encoding.hpp"

namespace allscene::services::docs {

using nlohmann::json;

struct DocsService::Outcome {
  Reply reply;
  std::string topic;  // empty: nothing to publish
  std::string payload;
};

namespace {

const std::vector<std::string> kOperations{"create", "list", "get", "sync", "edit", "delete"};

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601(int64_t ms) {
  const std::time_t seconds = ms / 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string to_base64(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> from_base64(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::string new_document_id() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return hex;
}

json version_json(const Version& v) {
  json out = json::object();
  for (const auto& [agent, count] : v) out[agent] = count;
  return out;
}

// A JSON integer >= 0 (parsed text gives unsigned, built JSON signed).
std::optional<uint64_t> non_negative(const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0)
    return static_cast<uint64_t>(j.get<int64_t>());
  return std::nullopt;
}

std::optional<Version> parse_version(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Version v;
  for (const auto& [agent, count] : j.items()) {
    const auto n = non_negative(count);
    if (!n || *n >= kMaxCounter) return std::nullopt;
    v[agent] = *n;
  }
  return v;
}

Reply bad_request(std::string code, std::string message) {
  return Reply::error(400, std::move(code), std::move(message));
}

Reply not_found() {
  return Reply::error(404, "not_found", "no such document: use list to see your documents' ids");
}

// The (unsigned) integer `key` of an edit operation, or nullopt.
std::optional<size_t> count_field(const json& op, const char* key) {
  auto it = op.find(key);
  if (it == op.end()) return std::nullopt;
  return non_negative(*it);
}

}  // namespace

namespace {

// The database file, in a state folder that exists.
std::filesystem::path database_in(const std::filesystem::path& state_dir) {
  std::filesystem::create_directories(state_dir);
  return state_dir / "docs.sqlite";
}

}  // namespace

DocsService::DocsService(ServiceContext ctx, DocsLimits limits)
    : ctx_(std::move(ctx)), limits_(limits), store_(database_in(ctx_.state_dir)) {
  if (sodium_init() < 0) throw std::runtime_error("docs: libsodium failed to initialise");
}

DocsService::~DocsService() = default;

std::vector<std::string> DocsService::operations() const { return kOperations; }

Reply DocsService::call(const Caller& caller, std::string_view operation, const json& request) {
  if (!request.is_object() && !request.is_null()) {
    return bad_request("bad_request", "the request must be a JSON object");
  }
  std::string user = caller.user;
  if (caller.admin && request.is_object() && request.contains("user") &&
      request["user"].is_string()) {
    user = request["user"].get<std::string>();
  }
  if (user.empty()) return bad_request("missing_user", "the request names no user");
  Outcome outcome;
  try {
    std::lock_guard lock(mutex_);
    outcome = dispatch(user, caller, operation, request.is_null() ? json::object() : request);
  } catch (const std::exception& e) {
    return Reply::error(500, "internal", std::string("docs failed: ") + e.what());
  }
  if (!outcome.topic.empty() && ctx_.hub != nullptr) {
    ctx_.hub->publish(outcome.topic, std::move(outcome.payload), false);
  }
  return std::move(outcome.reply);
}

DocsService::Outcome DocsService::dispatch(const std::string& user, const Caller& caller,
                                           std::string_view operation, const json& request) {
  if (operation == "create") return create(user, request);
  if (operation == "list") return list(user);
  if (operation == "get") return get(user, request);
  if (operation == "sync") return sync(user, caller, request);
  if (operation == "edit") return edit(user, caller, request);
  if (operation == "delete") return remove(user, request);
  return {Reply::error(404, "unknown_operation",
                       "docs has no operation '" + std::string(operation) +
                           "'; use create, list, get, sync, edit or delete"),
          {},
          {}};
}

DocsService::OpenDoc* DocsService::open(const std::string& user, const json& request,
                                        Reply& error) {
  auto id = request.find("id");
  if (id == request.end() || !id->is_string()) {
    error = bad_request("bad_id", "give the document's id (a string from create or list)");
    return nullptr;
  }
  const std::string key = id->get<std::string>();
  if (auto cached = cache_.find(key); cached != cache_.end()) {
    if (cached->second->info.owner == user) return cached->second.get();
    error = not_found();
    return nullptr;
  }
  auto info = store_.find(key);
  if (!info || info->owner != user) {
    error = not_found();
    return nullptr;
  }
  auto stored = store_.load(key);
  if (!stored) {
    error = Reply::error(500, "storage_error", "cannot read the document: " + store_.error());
    return nullptr;
  }
  auto doc = std::make_unique<OpenDoc>();
  doc->info = *info;
  doc->updates_since_snapshot = stored->updates.size();
  stored->updates.insert(stored->updates.begin(), std::move(stored->snapshot));
  for (const std::string& bytes : stored->updates) {
    const DecodeResult decoded = decode(bytes);
    if (!decoded.ok() || !doc->doc.apply(decoded.update).ok()) {
      error = Reply::error(500, "corrupt_document", "the stored document cannot be read back");
      return nullptr;
    }
  }
  if (cache_.size() >= limits_.cached_documents) cache_.erase(cache_.begin());
  return cache_.emplace(key, std::move(doc)).first->second.get();
}

bool DocsService::commit(OpenDoc& d, const Version& before, std::string& encoded, Reply& error) {
  const Update delta = d.doc.updates_since(before);
  if (delta.empty()) return true;
  encoded = encode(delta);
  const int64_t now = now_ms();
  if (!store_.append(d.info.id, encoded, d.doc.length(), now)) {
    error = Reply::error(500, "storage_error", "the change was not saved: " + store_.error());
    cache_.erase(d.info.id);  // the next call reloads what is durable
    return false;
  }
  d.info.updated_ms = now;
  d.info.length = d.doc.length();
  if (++d.updates_since_snapshot >= limits_.compact_every &&
      store_.compact(d.info.id, encode_document(d.doc))) {
    d.updates_since_snapshot = 0;
  }
  return true;
}

DocsService::Outcome DocsService::create(const std::string& user, const json& request) {
  std::string title = "Untitled";
  if (auto t = request.find("title"); t != request.end()) {
    const auto text = t->is_string() ? utf8_to_u32(t->get<std::string>()) : std::nullopt;
    if (!text || text->empty() || text->size() > limits_.max_title_chars) {
      return {bad_request("bad_title", "title must be a string of 1 to " +
                                           std::to_string(limits_.max_title_chars) + " characters"),
              {},
              {}};
    }
    title = t->get<std::string>();
  }
  const auto owned = store_.count(user);
  if (!owned) return {Reply::error(500, "storage_error", store_.error()), {}, {}};
  if (*owned >= limits_.max_documents_per_user) {
    return {Reply::error(403, "too_many_documents",
                         "you have " + std::to_string(*owned) +
                             " documents, the most allowed; delete some first"),
            {},
            {}};
  }
  const int64_t now = now_ms();
  const DocumentInfo info{new_document_id(), user, title, 0, now, now};
  if (!store_.create(info, encode(Update{}))) {
    return {Reply::error(500, "storage_error", "the document was not created: " + store_.error()),
            {},
            {}};
  }
  return {Reply::success({{"id", info.id}, {"title", info.title}}), {}, {}};
}

DocsService::Outcome DocsService::list(const std::string& user) {
  const auto docs = store_.list(user);
  if (!docs) return {Reply::error(500, "storage_error", store_.error()), {}, {}};
  json out = json::array();
  for (const DocumentInfo& d : *docs) {
    out.push_back({{"id", d.id},
                   {"title", d.title},
                   {"length", d.length},
                   {"updated", iso8601(d.updated_ms)}});
  }
  return {Reply::success(std::move(out)), {}, {}};
}

DocsService::Outcome DocsService::get(const std::string& user, const json& request) {
  Reply error;
  OpenDoc* d = open(user, request, error);
  if (d == nullptr) return {error, {}, {}};
  return {Reply::success({{"id", d->info.id},
                          {"title", d->info.title},
                          {"text", d->doc.text()},
                          {"length", d->doc.length()},
                          {"version", version_json(d->doc.version())}}),
          {},
          {}};
}

DocsService::Outcome DocsService::sync(const std::string& user, const Caller& caller,
                                       const json& request) {
  Reply error;
  OpenDoc* d = open(user, request, error);
  if (d == nullptr) return {error, {}, {}};
  Version known;
  if (auto v = request.find("version"); v != request.end() && !v->is_null()) {
    auto parsed = parse_version(*v);
    if (!parsed) {
      return {bad_request("bad_version",
                          "version must map agent names to operation counts, as sync returned it"),
              {},
              {}};
    }
    known = std::move(*parsed);
  }
  Outcome out;
  size_t unapplied = 0;
  std::string invalid;
  if (auto u = request.find("update"); u != request.end() && !u->is_null()) {
    if (!u->is_string())
      return {bad_request("bad_update", "update must be a base64 string"), {}, {}};
    const auto& text = u->get_ref<const std::string&>();
    if (text.size() > (limits_.max_update_bytes / 3 + 1) * 4) {
      return {
          Reply::error(413, "update_too_large",
                       "an update may hold at most " + std::to_string(limits_.max_update_bytes) +
                           " bytes; sync more often or in parts"),
          {},
          {}};
    }
    const auto bytes = from_base64(text);
    if (!bytes) return {bad_request("bad_update", "update is not valid base64"), {}, {}};
    const DecodeResult decoded = decode(*bytes);
    if (!decoded.ok()) return {bad_request("bad_update", decoded.error), {}, {}};
    size_t inserted = 0;
    for (const OpRun& op : decoded.update.ops) {
      if (op.agent == kHubAgent) {
        return {bad_request("reserved_agent",
                            "the agent name 'hub' is the hub's own; use the device id"),
                {},
                {}};
      }
      if (op.kind == OpRun::Kind::insert) inserted += op.len;
      known[op.agent] = std::max(known[op.agent], op.seq + op.len);
    }
    if (d->doc.length() + inserted > limits_.max_document_chars) {
      return {
          Reply::error(413, "document_too_large",
                       "a document may hold at most " + std::to_string(limits_.max_document_chars) +
                           " characters; start a new document"),
          {},
          {}};
    }
    const Version before = d->doc.version();
    const ApplyResult applied = d->doc.apply(decoded.update);
    unapplied = d->doc.pending();
    d->doc.drop_pending();
    invalid = applied.error;
    std::string encoded;
    if (!commit(*d, before, encoded, error)) return {error, {}, {}};
    if (!encoded.empty()) {
      out.topic = "users/" + user + "/docs/" + d->info.id;
      out.payload = json{{"update", to_base64(encoded)},
                         {"version", version_json(d->doc.version())},
                         {"from", caller.device_id}}
                        .dump();
    }
  }
  if (!invalid.empty()) {
    out.reply =
        bad_request("invalid_update", invalid + "; the valid operations before it were kept");
    return out;
  }
  json body{{"update", to_base64(encode(d->doc.updates_since(known)))},
            {"version", version_json(d->doc.version())}};
  if (unapplied > 0) body["unapplied"] = unapplied;  // runs whose dependencies the hub lacks
  out.reply = Reply::success(std::move(body));
  return out;
}

DocsService::Outcome DocsService::edit(const std::string& user, const Caller& caller,
                                       const json& request) {
  Reply error;
  OpenDoc* d = open(user, request, error);
  if (d == nullptr) return {error, {}, {}};
  auto ops = request.find("ops");
  if (ops == request.end() || !ops->is_array() || ops->empty()) {
    return {bad_request("bad_ops", "ops must be a non-empty array of {at, insert} or {at, delete}"),
            {},
            {}};
  }
  if (ops->size() > limits_.max_edit_ops) {
    return {Reply::error(413, "too_many_ops",
                         "at most " + std::to_string(limits_.max_edit_ops) +
                             " ops per edit; send them in parts"),
            {},
            {}};
  }
  // Check every op against the length it will see before changing anything.
  struct Edit {
    size_t at;
    size_t removed;
    std::u32string inserted;
  };
  std::vector<Edit> edits;
  size_t length = d->doc.length();
  for (size_t i = 0; i < ops->size(); ++i) {
    const json& op = (*ops)[i];
    const std::string where = "ops[" + std::to_string(i) + "]: ";
    const auto at = op.is_object() ? count_field(op, "at") : std::nullopt;
    const auto removed = op.is_object() ? count_field(op, "delete") : std::nullopt;
    const bool inserts = op.is_object() && op.contains("insert");
    if (!at || inserts == removed.has_value()) {
      return {
          bad_request("bad_ops",
                      where + "give \"at\" and one of \"insert\" (text) or \"delete\" (a count)"),
          {},
          {}};
    }
    Edit e{*at, removed.value_or(0), {}};
    if (inserts) {
      auto text =
          op["insert"].is_string() ? utf8_to_u32(op["insert"].get<std::string>()) : std::nullopt;
      if (!text || text->empty() || text->find(U'\0') != std::u32string::npos) {
        return {
            bad_request("bad_ops", where + "insert must be non-empty text without NUL"), {}, {}};
      }
      e.inserted = std::move(*text);
    }
    if (e.at > length || e.removed > length - e.at) {
      return {
          bad_request("bad_position", where + "position " + std::to_string(e.at) +
                                          " is past the end (the text has " +
                                          std::to_string(length) + " characters at that point)"),
          {},
          {}};
    }
    length = length - e.removed + e.inserted.size();
    edits.push_back(std::move(e));
  }
  if (length > limits_.max_document_chars) {
    return {Reply::error(413, "document_too_large",
                         "a document may hold at most " +
                             std::to_string(limits_.max_document_chars) + " characters"),
            {},
            {}};
  }
  const Version before = d->doc.version();
  for (const Edit& e : edits) {
    if (e.removed > 0) d->doc.remove(e.at, e.removed);
    if (!e.inserted.empty()) d->doc.insert(e.at, e.inserted);
  }
  std::string encoded;
  if (!commit(*d, before, encoded, error)) return {error, {}, {}};
  const json version = version_json(d->doc.version());
  return {Reply::success({{"version", version}, {"length", d->doc.length()}}),
          "users/" + user + "/docs/" + d->info.id,
          json{{"update", to_base64(encoded)}, {"version", version}, {"from", caller.device_id}}
              .dump()};
}

DocsService::Outcome DocsService::remove(const std::string& user, const json& request) {
  Reply error;
  OpenDoc* d = open(user, request, error);
  if (d == nullptr) return {error, {}, {}};
  const std::string id = d->info.id;
  if (!store_.remove(id)) {
    return {Reply::error(500, "storage_error", "the document was not deleted: " + store_.error()),
            {},
            {}};
  }
  cache_.erase(id);
  return {Reply::success({{"id", id}, {"deleted", true}}), "users/" + user + "/docs/" + id,
          json{{"deleted", true}}.dump()};
}

}  // namespace allscene::services::docs
