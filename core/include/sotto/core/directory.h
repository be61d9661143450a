// Directory documents: what the directory authority publishes and what nodes register.
//
// A node registers a NodeDescriptor signed with its identity key; the authority publishes, for
// each epoch, a Consensus signed with the authority key. Both travel as a SignedDocument:
//
//   {"body": "<canonical JSON text>", "signature": "<hex Ed25519 signature>"}
//
// The signature covers the exact bytes of "body" (after a domain-separation label), so checking
// never depends on how a JSON library re-serialises: verify the bytes, then parse them. Parsing
// is strict — unknown, missing or duplicate fields, wrong types, out-of-range values and bodies
// not in canonical form are errors — and every error says which field was wrong. Specified in
// papers/network-spec.md ("Directory documents"); JSON details in core/src/directory_json.*.
//
// Status codes of Verify*: Corruption — the bytes are not a well-formed document (size, JSON,
// fields, consistency); CryptoError — the signature does not verify; InvalidArgument — a genuine
// document this node cannot use (consensus stale or not yet valid, other Sphinx parameters).
// All functions are stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/keys.h"
#include "sotto/core/signing.h"
#include "sotto/core/sphinx.h"
#include "sotto/core/status.h"

namespace sotto::directory {

inline constexpr std::string_view kDescriptorLabel = "sotto-descriptor-v1";
inline constexpr std::string_view kConsensusLabel = "sotto-consensus-v1";
inline constexpr std::size_t kMaxDocumentSize = 1 << 20;  // 1 MiB; larger documents are refused

enum class NodeRole : std::uint8_t { kMix, kProvider };
std::string_view NodeRoleName(NodeRole role);  // "mix" | "provider"
Result<NodeRole> ParseNodeRole(std::string_view name);

// The Sphinx public key a node uses during one epoch.
struct EpochKey {
  std::uint64_t epoch = 0;
  PublicKey key;
  friend bool operator==(const EpochKey&, const EpochKey&) = default;
};

struct NodeDescriptor {
  std::string name;                         // operator-chosen, [a-z0-9-], 1..32 chars
  VerifyKey identity;                       // Ed25519; the node id in Sphinx is these 32 bytes
  std::array<std::uint8_t, 32> link_key{};  // ZeroMQ CURVE public key of the node's sockets
  std::string address;                      // ZeroMQ endpoint, "tcp://HOST:PORT"
  NodeRole role = NodeRole::kMix;
  std::uint32_t layer = 0;             // mixes: 1..cascade length; providers: 0
  std::vector<EpochKey> routing_keys;  // for the current and following epochs, ascending

  sphinx::NodeId id() const { return identity.bytes; }
  // The routing key for `epoch`, if the descriptor has one.
  std::optional<PublicKey> RoutingKeyFor(std::uint64_t epoch) const;
  friend bool operator==(const NodeDescriptor&, const NodeDescriptor&) = default;
};

// Parameters every node and client of the network follows, published in the consensus.
struct NetworkParams {
  std::string mixing_policy = "threshold-timeout";  // see mixnode/policy.h
  std::uint32_t batch_size = 16;                    // threshold
  std::uint32_t batch_timeout_ms = 1000;            // threshold-timeout t / timed & pool period
  std::uint32_t pool_keep_percent = 0;              // pool policy
  std::uint32_t mean_delay_ms = 200;                // continuous-time policy
  std::uint32_t min_batch = 4;                      // batches padded with dummies to this size
  std::uint32_t cover_drop_per_min = 60;            // client drop-cover rate (Poisson)
  std::uint32_t cover_loop_per_min = 30;            // client loop-cover rate
  std::uint32_t send_rate_per_min = 60;             // client real-or-cover packet rate
  std::uint32_t fetch_interval_ms = 2000;           // client mailbox fetches
  std::uint32_t mail_retention_s = 7 * 24 * 3600;
  friend bool operator==(const NetworkParams&, const NetworkParams&) = default;
};

struct Consensus {
  std::uint64_t epoch = 0;
  std::int64_t valid_after = 0;  // Unix seconds
  std::int64_t valid_until = 0;  // Unix seconds; after this the document is stale
  std::uint32_t epoch_length_s = 3600;
  std::uint32_t sphinx_max_hops = sphinx::kMaxHops;
  std::uint32_t packet_size = sphinx::kPacketSize;
  std::vector<NodeDescriptor> nodes;
  std::vector<std::vector<sphinx::NodeId>> cascades;  // ordered mixes, layer 1 first
  NetworkParams params;

  const NodeDescriptor* FindNode(const sphinx::NodeId& id) const;
  std::vector<const NodeDescriptor*> Providers() const;
  friend bool operator==(const Consensus&, const Consensus&) = default;
};

// The protocol's rules on values (InvalidArgument naming the field): names, addresses, layers,
// ascending routing keys, parameter ranges; for a consensus also its internal consistency (node
// ids and names unique, every node has a routing key for the consensus epoch, cascades non-empty
// and made of listed mixes whose layer is their 1-based position, no mix in two cascades).
// Daemons run these on what they built from their configuration before signing.
Status ValidateDescriptor(const NodeDescriptor& descriptor);
Status ValidateConsensus(const Consensus& consensus);

// Signing produces the SignedDocument text; verification checks size, JSON shape, the signature
// against `signer`, then parses the body strictly.
//
// Preconditions (bugs otherwise; checked, abort with the validation message): the document
// passes Validate*, and a descriptor's `identity` is `identity.verify_key()`.
std::string SignDescriptor(const NodeDescriptor& descriptor, const SigningKey& identity);
// A descriptor must be signed by the identity key it names; its body is therefore JSON-parsed
// (syntax only) to find that key before the signature is checked, and interpreted only after.
Result<NodeDescriptor> VerifyDescriptor(std::string_view document);

std::string SignConsensus(const Consensus& consensus, const SigningKey& authority);
// Also rejects a consensus that is not valid at `now_unix` (stale or not yet valid) and one whose
// sphinx_max_hops or packet_size differ from this build's, and checks internal consistency
// (cascade members are listed mixes, layers match positions, node ids unique).
Result<Consensus> VerifyConsensus(std::string_view document, const VerifyKey& authority,
                                  std::int64_t now_unix);

}  // namespace sotto::directory
