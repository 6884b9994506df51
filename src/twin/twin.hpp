// A device twin: desired properties (set by the cloud), reported properties
// (set by the device) and tags (the cloud's own notes), as Azure IoT Hub
// keeps them. Patches follow JSON merge patch (RFC 7396: null deletes);
// each section has its own $version and per-property $metadata with the
// time of the last change.
//
// Not thread-safe: one owner at a time (the twin service serialises).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace allscene::twin {

struct TwinLimits {
  std::size_t max_bytes = 32 * 1024;  // per section, serialised without $metadata
  int max_depth = 10;                 // nesting of objects within a section
};

// A patch that cannot be applied; `status` is the HTTP-style status the
// device or service is answered with (400 bad patch, 413 too large).
class TwinError : public std::runtime_error {
 public:
  TwinError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// Unix milliseconds as Azure writes times: "2025-11-24T16:00:00.123Z".
std::string iso8601(std::int64_t ms);

// The merge patch (RFC 7396) that turns the object `from` into `to`.
nlohmann::json merge_patch_between(const nlohmann::json& from, const nlohmann::json& to);

class Twin {
 public:
  enum class Section { desired, reported };

  explicit Twin(TwinLimits limits = {}) : limits_(limits) {}

  // Applies `patch` (a JSON object) to a section and returns its new
  // $version. Keys starting with '$', or holding '.', ' ' or control
  // characters, are refused (as Azure does), and so is a result above the
  // limits; the twin is then unchanged. `now_ms`: wall time of the change.
  std::int64_t patch(Section section, const nlohmann::json& patch, std::int64_t now_ms);
  // Replaces a section's properties with `values` (Azure's PUT of a twin)
  // by applying the merge patch that turns the old into the new; returns
  // the new $version (unchanged if nothing changed).
  std::int64_t replace(Section section, const nlohmann::json& values, std::int64_t now_ms);
  // Tags: a merge patch as well, without versions or metadata.
  void patch_tags(const nlohmann::json& patch);
  void replace_tags(const nlohmann::json& tags);

  std::int64_t version(Section section) const;
  // A section's properties, without $version or metadata.
  const nlohmann::json& values(Section section) const { return part(section).values; }
  // What a device sees on "$iothub/twin/GET": both sections with $version.
  nlohmann::json device_view() const;
  // What the service sees (Azure's twin JSON): deviceId, version, tags and
  // properties with $metadata and $version.
  nlohmann::json service_view(const std::string& device_id) const;

  // The stored form, and back (TwinError 400 on a damaged document).
  nlohmann::json to_json() const;
  static Twin from_json(const nlohmann::json& stored, TwinLimits limits = {});

 private:
  struct Part {
    nlohmann::json values = nlohmann::json::object();
    nlohmann::json metadata = nlohmann::json::object();
    std::int64_t version = 0;
  };
  Part& part(Section s) { return s == Section::desired ? desired_ : reported_; }
  const Part& part(Section s) const { return s == Section::desired ? desired_ : reported_; }

  TwinLimits limits_;
  Part desired_;
  Part reported_;
  nlohmann::json tags_ = nlohmann::json::object();
};

}  // namespace allscene::twin
