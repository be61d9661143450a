// A node's keys on disk, in its state directory (mode 0700, key files 0600, see keyfile.h):
//   identity.key      Ed25519 seed: signs descriptors; its public half is the node id
//   link.key          CURVE secret: authenticates every ZeroMQ link
//   routing/E.key     X25519 Sphinx key for epoch E, deleted after the epoch's grace period
// Only the event loop thread uses a NodeKeys.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <vector>

#include "sotto/core/directory.h"
#include "sotto/core/keys.h"
#include "sotto/core/signing.h"
#include "sotto/core/transport.h"

namespace sotto::mixnode {

class NodeKeys {
 public:
  // Creates identity.key and link.key; refuses if they exist (never overwrite a node's keys).
  static Result<NodeKeys> Init(const std::filesystem::path& state_dir);
  // Loads identity, link and every routing key present.
  static Result<NodeKeys> Load(const std::filesystem::path& state_dir);

  const SigningKey& identity() const { return identity_; }
  const transport::CurveKeyPair& link() const { return link_; }

  // Makes sure routing keys exist for every epoch in [first, last], generating missing ones.
  Status EnsureRoutingKeys(std::uint64_t first, std::uint64_t last);
  // Deletes routing keys of epochs < `epoch` (files and memory).
  void ForgetRoutingKeysBefore(std::uint64_t epoch);
  const SecretKey* RoutingKey(std::uint64_t epoch) const;
  std::vector<std::uint64_t> RoutingEpochs() const;
  std::vector<directory::EpochKey> PublicRoutingKeys() const;

 private:
  NodeKeys(std::filesystem::path dir, SigningKey identity, transport::CurveKeyPair link)
      : dir_(std::move(dir)), identity_(std::move(identity)), link_(std::move(link)) {}
  std::filesystem::path dir_;
  SigningKey identity_;
  transport::CurveKeyPair link_;
  std::map<std::uint64_t, KeyPair> routing_;
};

}  // namespace sotto::mixnode
