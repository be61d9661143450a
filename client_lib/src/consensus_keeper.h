// ConsensusKeeper: the daemon's directory thread (papers/client-spec.md §3.5). It fetches and
// verifies the consensus on a schedule set only by the clock and the network's state — at
// start, at each new epoch, every 30 s within an epoch (the authority re-signs when nodes
// change), every 2 s while there is no valid consensus or my provider does not answer — never
// by what the user does, and hands it to the other threads (WireExchange::SetConsensus). Every
// fetch uses a fresh throw-away CURVE key, so the directory cannot link fetches to each other
// or to my mailbox. Fetches block for up to kTimeout, here and nowhere else.
#pragma once

#include <chrono>
#include <zmq.hpp>

#include "sotto/core/directory_client.h"
#include "wire_exchange.h"

namespace sotto::client {

class ConsensusKeeper {
 public:
  static constexpr auto kTimeout = std::chrono::milliseconds(2000);
  static constexpr auto kRefresh = std::chrono::seconds(30);
  static constexpr auto kRetry = std::chrono::seconds(2);

  ConsensusKeeper(zmq::context_t& context, directory::AuthorityInfo authority,
                  sphinx::NodeId my_provider, WireExchange& exchange)
      : context_(context),
        authority_(std::move(authority)),
        my_provider_(my_provider),
        ex_(exchange) {}
  void Run();  // until exchange.stop

 private:
  void FetchOnce();
  zmq::context_t& context_;
  directory::AuthorityInfo authority_;
  sphinx::NodeId my_provider_;
  WireExchange& ex_;
  std::string last_error_;
};

}  // namespace sotto::client
