// Node key files: creation, loading, per-epoch routing keys.
#include "node_keys.h"

#include <system_error>

#include "sotto/core/keyfile.h"

namespace sotto::mixnode {
namespace fs = std::filesystem;

Result<NodeKeys> NodeKeys::Init(const fs::path& state_dir) {
  if (Status s = EnsurePrivateDirectory(state_dir); !s.ok()) return s;
  std::error_code ec;
  if (fs::exists(state_dir / "identity.key", ec)) {
    return Status::InvalidArgument("node keys already exist in " + state_dir.string() +
                                   " (refusing to overwrite them; use another --state-dir)");
  }
  SigningKey identity = SigningKey::Generate();
  auto link = transport::CurveKeyPair::Generate();
  if (Status s = WriteKeyFile(state_dir / "identity.key", identity.seed()); !s.ok()) return s;
  if (Status s = WriteKeyFile(state_dir / "link.key", link.secret_key); !s.ok()) return s;
  return NodeKeys(state_dir, std::move(identity), std::move(link));
}

Result<NodeKeys> NodeKeys::Load(const fs::path& state_dir) {
  auto seed = ReadKeyFile(state_dir / "identity.key");
  if (!seed.ok()) {
    return Status::NotFound(seed.status().message() + " (run 'sotto-mixnode init' first)");
  }
  auto link_secret = ReadKeyFile(state_dir / "link.key");
  if (!link_secret.ok()) return link_secret.status();
  NodeKeys keys(state_dir, SigningKey::FromSeed(seed->Bytes()),
                transport::CurveKeyPair::FromSecret(std::move(link_secret.value())));
  std::error_code ec;
  const fs::path routing = state_dir / "routing";
  if (fs::exists(routing, ec)) {
    for (const auto& entry : fs::directory_iterator(routing, ec)) {
      if (entry.path().extension() != ".key") continue;
      std::uint64_t epoch = 0;
      try {
        epoch = std::stoull(entry.path().stem().string());
      } catch (...) {
        continue;
      }
      auto secret = ReadKeyFile(entry.path());
      if (!secret.ok()) return secret.status();
      KeyPair kp{DerivePublicKey(secret.value()), std::move(secret.value())};
      keys.routing_.emplace(epoch, std::move(kp));
    }
  }
  return keys;
}

Status NodeKeys::EnsureRoutingKeys(std::uint64_t first, std::uint64_t last) {
  const fs::path routing = dir_ / "routing";
  if (Status s = EnsurePrivateDirectory(routing); !s.ok()) return s;
  for (std::uint64_t e = first; e <= last; ++e) {
    if (routing_.count(e)) continue;
    KeyPair kp = KeyPair::Generate();
    if (Status s = WriteKeyFile(routing / (std::to_string(e) + ".key"), kp.secret_key, true);
        !s.ok()) {
      return s;
    }
    routing_.emplace(e, std::move(kp));
  }
  return Status::Ok();
}

void NodeKeys::ForgetRoutingKeysBefore(std::uint64_t epoch) {
  for (auto it = routing_.begin(); it != routing_.end() && it->first < epoch;) {
    std::error_code ec;
    fs::remove(dir_ / "routing" / (std::to_string(it->first) + ".key"), ec);
    it = routing_.erase(it);
  }
}

const SecretKey* NodeKeys::RoutingKey(std::uint64_t epoch) const {
  auto it = routing_.find(epoch);
  return it == routing_.end() ? nullptr : &it->second.secret_key;
}

std::vector<std::uint64_t> NodeKeys::RoutingEpochs() const {
  std::vector<std::uint64_t> out;
  for (const auto& [e, _] : routing_) out.push_back(e);
  return out;
}

std::vector<directory::EpochKey> NodeKeys::PublicRoutingKeys() const {
  std::vector<directory::EpochKey> out;
  for (const auto& [e, kp] : routing_) out.push_back({e, kp.public_key});
  return out;
}

}  // namespace sotto::mixnode
