// The directory authority's state and event loop: verified descriptors of approved nodes, the
// consensus for each epoch (built once, then fixed), and a ROUTER socket that answers
// POST_DESCRIPTOR and GET_CONSENSUS. Descriptors and published documents are kept in the state
// directory, so a restarted authority serves the same documents. One thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "authority_config.h"
#include "sotto/core/transport.h"
#include "sotto/core/wire.h"

namespace sotto::authority {

class Authority {
 public:
  static Result<std::unique_ptr<Authority>> Create(AuthorityConfig config);
  ~Authority();
  Status Run(const std::atomic<bool>& stop);
  const std::string& bound_endpoint() const { return bound_endpoint_; }

  // Builds (without publishing) the consensus for `epoch` from the descriptors at hand; nullopt
  // if there is not yet one complete cascade and one provider with keys for the epoch.
  std::optional<directory::Consensus> Build(std::uint64_t epoch) const;

 private:
  Authority(AuthorityConfig config, SigningKey signing, transport::CurveKeyPair link)
      : config_(std::move(config)), signing_(std::move(signing)), link_(std::move(link)) {}
  void OnMessage();
  wire::Message HandlePost(const std::string& document);
  wire::Message HandleGet(std::uint64_t epoch);
  void MaybePublish(std::uint64_t epoch, std::int64_t now_unix);
  void LoadState();

  AuthorityConfig config_;
  SigningKey signing_;
  transport::CurveKeyPair link_;
  zmq::context_t context_;
  std::unique_ptr<transport::ZapHandler> zap_;
  std::optional<zmq::socket_t> router_;
  std::string bound_endpoint_;
  std::map<std::string, directory::NodeDescriptor> descriptors_;       // by name
  std::map<std::uint64_t, std::string> published_;                     // epoch → signed document
  std::map<std::uint64_t, directory::Consensus> published_consensus_;  // what was signed
  std::int64_t started_unix_ = 0;
};

}  // namespace sotto::authority
