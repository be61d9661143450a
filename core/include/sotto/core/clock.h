// The wall clock in whole Unix seconds: what directory documents, epochs, stored records and
// status lines count in. One definition for every role.
#pragma once

#include <chrono>
#include <cstdint>

namespace sotto {

inline std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sotto
