// `sotto init` (daemon.h): a new identity registered with a provider from the verified consensus.
#include <sodium.h>

#include <cstdlib>
#include <thread>

#include "schedule.h"
#include "sotto/client_lib/client_store.h"
#include "sotto/client_lib/daemon.h"
#include "sotto/client_lib/ipc.h"
#include "sotto/client_lib/provider_link.h"
#include "sotto/client_lib/x3dh.h"
#include "sotto/core/clock.h"
#include "sotto/core/keyfile.h"
#include "sotto/core/mailbox.h"
#include "wire_loop.h"

namespace sotto::client {
namespace {

// Removes what a failed init created, so that a second try starts clean.
class Cleanup {
 public:
  Cleanup(std::filesystem::path home, bool home_existed)
      : home_(std::move(home)), home_existed_(home_existed) {}
  ~Cleanup() {
    if (done_) return;
    std::error_code ec;
    if (!home_existed_) {
      std::filesystem::remove_all(home_, ec);
      return;
    }
    for (const char* name : {"state.key", "db", "sessions", "sotto.log"}) {
      std::filesystem::remove_all(home_ / name, ec);
    }
  }
  void Keep() { done_ = true; }

 private:
  std::filesystem::path home_;
  bool home_existed_;
  bool done_ = false;
};

}  // namespace

std::filesystem::path DefaultHome() {
  if (const char* h = std::getenv("SOTTO_HOME"); h != nullptr && *h != '\0') return h;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') {
    return std::filesystem::path(x) / "sotto";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return std::filesystem::path(h) / ".local" / "share" / "sotto";
  }
  return std::filesystem::path(".sotto");
}

Result<InitResult> InitClient(const std::filesystem::path& home, const InitOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(home / "state.key", ec)) {
    return Status::InvalidArgument(home.string() +
                                   " already holds a Sotto identity; use another --home, or "
                                   "delete that folder to start over (this loses your messages)");
  }
  for (const char* part : {"db", "sessions"}) {
    if (std::filesystem::exists(home / part, ec)) {
      // Never touch a client's data: its state.key is missing, and init would destroy it.
      return Status::InvalidArgument(home.string() + " holds a Sotto client's data (" + part +
                                     "/) but no state.key: restore state.key from a backup, or "
                                     "move the folder away to start over");
    }
  }
  if (options.passphrase && options.passphrase->size() < kMinPassphraseLength) {
    return Status::InvalidArgument("the passphrase must have at least " +
                                   std::to_string(kMinPassphraseLength) + " characters");
  }
  if (options.authority.address.empty()) {
    return Status::InvalidArgument(
        "no directory authority given (--directory, --directory-link-key, "
        "--directory-verify-key, or --config FILE)");
  }

  // 1. The verified consensus, from a throw-away link key (the directory need not see the
  //    client's real one).
  zmq::context_t context(1);
  const auto probe_keys = transport::CurveKeyPair::Generate();
  directory::DirectoryClient directory(context, probe_keys, options.authority);
  const auto now = NowUnix();
  auto consensus =
      directory.FetchConsensus(options.authority.clock.EpochAt(now), now, options.timeout);
  if (!consensus.ok()) {
    const auto& s = consensus.status();
    if (s.code() == Status::Code::kUnavailable) {
      return Status::Unavailable("cannot reach the directory authority at " +
                                 options.authority.address + " (" + s.message() +
                                 "); check the address and that it is running");
    }
    return Status(s.code() == Status::Code::kNotFound
                      ? Status::Unavailable("the directory has no consensus yet; try again in a "
                                            "minute")
                      : Status::CryptoError("the directory's consensus was refused (" +
                                            s.message() +
                                            "); check --directory-verify-key, or someone is "
                                            "forging the directory"));
  }
  const auto providers = consensus.value().Providers();
  if (providers.empty()) return Status::Unavailable("the consensus lists no provider");
  const directory::NodeDescriptor* provider = nullptr;
  if (options.provider_name.empty()) {
    provider = providers[UniformBelow(SystemRng(), providers.size())];
  } else {
    std::string names;
    for (const auto* p : providers) {
      if (p->name == options.provider_name) provider = p;
      names += (names.empty() ? "" : ", ") + p->name;
    }
    if (provider == nullptr) {
      return Status::InvalidArgument("no provider named '" + options.provider_name +
                                     "' in the consensus (there are: " + names + ")");
    }
  }

  // 2. My link key names my mailbox; the provider must answer for it. The registration fetch
  //    looks like every fetch of the daemon (client-spec §3.2): 8 items, then, the daemon's
  //    delay after the reply (fixed, plus its jitter), an ACK of 8 ids (all padding: a new
  //    mailbox is empty).
  auto link_keys = transport::CurveKeyPair::Generate();
  const auto mailbox = MailboxForLinkKey(link_keys.public_key);
  {
    ProviderLink link(context, link_keys, *provider);
    auto fetched = link.Fetch(mailbox, WireLoop::kFetchItems, options.timeout);
    if (!fetched.ok()) {
      return Status::Unavailable("provider " + provider->name + " at " + provider->address +
                                 " did not answer (" + fetched.status().message() +
                                 "); try again, or choose another with --provider");
    }
    std::this_thread::sleep_for(
        TrafficSchedule::DrawAckDelay(consensus.value().params.fetch_interval_ms, SystemRng()));
    // Zeros only: nothing is stored yet, so nothing may be acknowledged (a new mailbox is empty).
    const std::vector<std::uint64_t> ids(WireLoop::kFetchItems, 0);
    if (auto s = link.Ack(mailbox, ids, options.timeout); !s.ok()) {
      return Status::Unavailable("provider " + provider->name + " at " + provider->address +
                                 " did not answer (" + s.message() +
                                 "); try again, or choose another with --provider");
    }
  }

  // 3. Keys and state, all or nothing.
  const bool home_existed = std::filesystem::exists(home, ec);
  Cleanup cleanup(home, home_existed);
  if (auto s = EnsurePrivateDirectory(home); !s.ok()) return s;
  auto state_key = CreateStateKey(home, options.passphrase, options.cost);
  if (!state_key.ok()) return state_key.status();
  auto store = ClientStore::Open(home, std::move(state_key.value()));
  if (!store.ok()) return store.status();
  auto identity = IdentityKeys::Generate();
  auto prekey = PreKey::Generate();
  Profile profile;
  profile.identity_secret = identity.keys.secret_key.Clone();
  profile.prekey_secret = prekey.keys.secret_key.Clone();
  profile.link_secret = link_keys.secret_key.Clone();
  profile.provider = provider->id();
  profile.provider_name = provider->name;
  profile.directory_address = options.authority.address;
  profile.directory_link_key = options.authority.link_key;
  profile.directory_verify_key = options.authority.verify_key.bytes;
  profile.genesis_unix = options.authority.clock.genesis_unix;
  profile.epoch_length_s = options.authority.clock.length_s;
  profile.created_unix = now;
  if (auto s = store.value()->SaveProfile(profile); !s.ok()) return s;
  if (auto s = store.value()->SaveSettings(options.settings); !s.ok()) return s;
  cleanup.Keep();
  return InitResult{provider->name, consensus.value().epoch, Fingerprint(identity.keys.public_key)};
}

}  // namespace sotto::client
