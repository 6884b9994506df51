// The twin query language: the subset of Azure IoT Hub's
// `SELECT … FROM devices [WHERE …] [GROUP BY …]` that docs/query.md
// describes, evaluated over service views of twins (Twin::service_view) or
// any other JSON object. Pure: no I/O, no clock, no global state.
//
// Errors: a query that cannot be parsed throws QueryError, whose what() names
// the problem and its position (1-based, in bytes) ("query: expected a value
// after '=' at 31"); it is meant to be shown to the caller (REST answers 400
// with it). Evaluation never throws for any JSON input; calling a method
// against its stated precondition throws std::logic_error.
//
// Thread-safety: a Query is immutable after parse(); its const methods may be
// called from any number of threads at once. Copies share the parsed tree.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace allscene::twin {

class QueryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Query {
 public:
  // Longest query text accepted, in bytes, and deepest nesting of NOT and
  // parentheses, so that a hostile query cannot exhaust memory or the stack.
  static constexpr std::size_t kMaxLength = 8 * 1024;
  static constexpr int kMaxDepth = 32;

  // Throws QueryError on any text that is not a supported query.
  static Query parse(std::string_view text);

  // The WHERE condition (true when there is none). A comparison with a
  // missing path or a value of another JSON type is undefined, and only a
  // true condition matches.
  bool matches(const nlohmann::json& twin) const;

  // True for `SELECT COUNT() …` (with or without GROUP BY).
  bool is_aggregate() const;

  // The row for one matching twin: the whole twin for `SELECT *`, else an
  // object holding each selected path that exists, under its alias or last
  // path segment. Precondition: !is_aggregate().
  nlohmann::json project(const nlohmann::json& twin) const;

  // The rows (a JSON array) of an aggregate over the twins that matched:
  // one row {alias: n} without GROUP BY, else one row per distinct value of
  // the grouping path in order of first appearance, {name: value, alias: n}
  // (name omitted for twins without the path). The default alias of COUNT()
  // is "count". Precondition: is_aggregate(); no pointer is null.
  nlohmann::json aggregate(const std::vector<const nlohmann::json*>& matching) const;

  struct Impl;  // the parsed query; defined in query.cpp

 private:
  explicit Query(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace allscene::twin
