// The registry's storage on the store's documents (wiring: neither layer
// knows the other).
#pragma once

#include "registry/registry.hpp"
#include "store/document_store.hpp"

namespace allscene::hub {

class DocumentRegistryStorage final : public registry::RegistryStorage {
 public:
  explicit DocumentRegistryStorage(store::DocumentStore& documents) : documents_(documents) {}
  std::vector<std::string> load(std::string_view collection) override {
    return documents_.load(collection);
  }
  void put(std::string_view collection, std::string_view key, const std::string& body) override {
    documents_.put(collection, key, body);
  }
  void remove(std::string_view collection, std::string_view key) override {
    documents_.remove(collection, key);
  }
  void record(std::string_view collection,
              const std::vector<std::pair<std::string, std::string>>& documents) override {
    documents_.put_many(collection, documents, /*announce=*/false);
  }

 private:
  store::DocumentStore& documents_;
};

}  // namespace allscene::hub
