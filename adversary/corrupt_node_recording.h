// The recording of sotto-corrupt-node: JSON Lines, one object per event (format in
// adversary/README.md, "Recordings"), appended to a file. Written through a buffer that is
// flushed at least every second (Tick) and when the recording is closed, so a killed process
// loses at most its last second. Used from the node's event-loop thread only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sotto/core/bytes.h"
#include "sotto/core/status.h"

namespace sotto::adversary {

using Json = nlohmann::ordered_json;

class Recording {
 public:
  // Opens `path` for appending (created 0600 if missing).
  static Result<std::unique_ptr<Recording>> Open(const std::filesystem::path& path);
  ~Recording();
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;

  // An event object with "ev" and "t" set; add fields, then Write it.
  static Json Event(std::string_view ev, std::int64_t t_us);
  void Write(const Json& event);
  // Flushes if the last flush is at least a second old.
  void Tick(std::int64_t now_us);
  void Flush();

 private:
  explicit Recording(std::FILE* file) : file_(file) {}
  std::FILE* file_;
  std::int64_t last_flush_us_ = 0;
  bool failed_ = false;
};

// JSON spellings shared by the events.
std::string LinkIdHex(std::uint64_t id);  // 16 lower-case hex digits
inline Json OrNull(const std::optional<std::uint64_t>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace sotto::adversary
