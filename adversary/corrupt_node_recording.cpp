// JSON Lines recording for sotto-corrupt-node.
#include "corrupt_node_recording.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sotto::adversary {

Result<std::unique_ptr<Recording>> Recording::Open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IoError(
        fmt::format("--record: cannot open {} for appending: {} (choose a "
                    "writable path)",
                    path.string(), std::strerror(errno)));
  }
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    ::close(fd);
    return Status::IoError(
        fmt::format("--record: cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  return std::unique_ptr<Recording>(new Recording(file));
}

Recording::~Recording() {
  Flush();
  std::fclose(file_);
}

Json Recording::Event(std::string_view ev, std::int64_t t_us) {
  Json j;
  j["ev"] = ev;
  j["t"] = t_us;
  return j;
}

void Recording::Write(const Json& event) {
  const std::string line = event.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() && !failed_) {
    failed_ = true;  // said once; the node keeps running
    spdlog::error("recording: write failed: {}", std::strerror(errno));
  }
}

void Recording::Tick(std::int64_t now_us) {
  if (now_us - last_flush_us_ < 1'000'000) return;
  last_flush_us_ = now_us;
  Flush();
}

void Recording::Flush() {
  if (std::fflush(file_) != 0 && !failed_) {
    failed_ = true;
    spdlog::error("recording: flush failed: {}", std::strerror(errno));
  }
}

std::string LinkIdHex(std::uint64_t id) { return fmt::format("{:016x}", id); }

}  // namespace sotto::adversary
