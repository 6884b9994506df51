// An in-memory RegistryStorage whose writes can be made to fail.
#pragma once

#include <sodium.h>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "registry/registry.hpp"

namespace allscene::registry::registry_testing {

class FakeStorage final : public RegistryStorage {
 public:
  std::vector<std::string> load(std::string_view collection) override {
    if (fail_loads) throw std::runtime_error("disk on fire");
    std::vector<std::string> bodies;
    for (const auto& [key, body] : docs[std::string(collection)]) bodies.push_back(body);
    return bodies;
  }
  void put(std::string_view collection, std::string_view key, const std::string& body) override {
    if (fail_writes) throw std::runtime_error("disk full");
    ++writes;
    docs[std::string(collection)][std::string(key)] = body;
  }
  void remove(std::string_view collection, std::string_view key) override {
    if (fail_writes) throw std::runtime_error("disk full");
    ++writes;
    docs[std::string(collection)].erase(std::string(key));
  }

  std::map<std::string, std::map<std::string, std::string>> docs;  // collection -> key -> body
  bool fail_writes = false;
  bool fail_loads = false;
  int writes = 0;
};

// Cheap Argon2id so tests stay fast; the hash format is the same.
inline RegistryOptions fast_options(std::int64_t now_ms = 1'700'000'000'000) {
  RegistryOptions options;
  options.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
  options.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
  options.now_ms = [now_ms] { return now_ms; };
  return options;
}

}  // namespace allscene::registry::registry_testing
