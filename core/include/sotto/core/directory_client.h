// Talking to the directory authority: posting a node's descriptor and fetching the consensus.
// Used by sotto-mixnode and by clients. Each call is one request/response over a CURVE DEALER
// socket that only talks to the authority's link key, with a timeout; a consensus is returned
// only after VerifyConsensus accepted it (authority signature, validity window, consistency).
// Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "sotto/core/directory.h"
#include "sotto/core/epoch.h"
#include "sotto/core/transport.h"

namespace sotto::directory {

// What a node or client is configured with to find and trust the authority.
struct AuthorityInfo {
  std::string address;                  // "tcp://127.0.0.1:7000"
  transport::LinkPublicKey link_key{};  // the authority's CURVE key
  VerifyKey verify_key;                 // the authority's signing key
  EpochClock clock;                     // the network's epoch genesis and length
};

class DirectoryClient {
 public:
  DirectoryClient(zmq::context_t& context, const transport::CurveKeyPair& own_keys,
                  AuthorityInfo authority);

  // Unavailable if the authority does not answer within `timeout`; InvalidArgument with the
  // authority's message if it refuses the descriptor.
  Status PostDescriptor(const std::string& document, std::chrono::milliseconds timeout);

  // epoch 0 asks for the current epoch. NotFound if the authority has none yet.
  Result<Consensus> FetchConsensus(std::uint64_t epoch, std::int64_t now_unix,
                                   std::chrono::milliseconds timeout);

 private:
  Result<std::string> Request(const Bytes& request, std::chrono::milliseconds timeout,
                              Bytes* reply);
  zmq::context_t& context_;
  const transport::CurveKeyPair& own_keys_;
  AuthorityInfo authority_;
  std::optional<zmq::socket_t> socket_;
};

}  // namespace sotto::directory
