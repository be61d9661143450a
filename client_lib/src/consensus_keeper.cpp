// ConsensusKeeper (consensus_keeper.h): the consensus, fetched on the clock's schedule.
#include "consensus_keeper.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "sotto/core/clock.h"

namespace sotto::client {
namespace {

using namespace std::chrono_literals;

}  // namespace

void ConsensusKeeper::FetchOnce() {
  const auto now = NowUnix();
  const auto epoch = authority_.clock.EpochAt(now);
  const auto keys = transport::CurveKeyPair::Generate();  // throw-away, one per fetch
  directory::DirectoryClient directory(context_, keys, authority_);
  auto fetched = directory.FetchConsensus(epoch, now, kTimeout);
  if (!fetched.ok()) {
    const std::string what =
        "no consensus for epoch " + std::to_string(epoch) + ": " + fetched.status().message();
    if (what != last_error_) spdlog::warn("{}", what);
    last_error_ = what;
    ex_.SetError(what);
    return;
  }
  last_error_.clear();
  const auto current = ex_.consensus();
  if (current && *current == fetched.value()) return;
  spdlog::info("consensus for epoch {} verified ({} nodes, {} cascades)", fetched.value().epoch,
               fetched.value().nodes.size(), fetched.value().cascades.size());
  if (fetched.value().FindNode(my_provider_) == nullptr) {
    const std::string what =
        "my provider is not in the consensus; messages wait in the queue until it returns";
    spdlog::warn("{}", what);
    ex_.SetError(what);
  }
  ex_.SetConsensus(std::make_shared<const directory::Consensus>(std::move(fetched.value())));
}

void ConsensusKeeper::Run() {
  auto next = std::chrono::steady_clock::now();
  std::uint64_t fetched_epoch = ~std::uint64_t{0};
  while (!ex_.stop.load()) {
    const auto now = std::chrono::steady_clock::now();
    const auto epoch = authority_.clock.EpochAt(NowUnix());
    if (now >= next || epoch != fetched_epoch) {
      try {
        FetchOnce();
      } catch (const std::exception& e) {
        spdlog::error("unexpected error while fetching the consensus: {}", e.what());
      }
      fetched_epoch = epoch;
      const auto after = ex_.consensus();
      const bool ok = after && after->valid_until > NowUnix() && after->epoch == epoch;
      const bool provider_ok = ex_.counters.connected.load();
      next = std::chrono::steady_clock::now() + (ok && provider_ok ? kRefresh : kRetry);
    }
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace sotto::client
