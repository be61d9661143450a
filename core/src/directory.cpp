// Directory documents: the protocol's rules on values, internal consistency of a consensus, and
// signing and verification (papers/network-spec.md, "Directory documents"). The JSON form is
// in directory_json.cpp.
#include "sotto/core/directory.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>

#include "directory_json.h"
#include "sotto/core/bytes.h"

namespace sotto::directory {
namespace {

using internal::FieldError;
using internal::FieldPath;
using internal::kConsensusDoc;
using internal::kDescriptorDoc;
using internal::Quote;

// Mixes sit at layers 1..kMaxMixLayer: a path is the mixes of one cascade followed by the
// recipient's provider, and the whole path must fit in one Sphinx header.
constexpr std::uint32_t kMaxMixLayer = static_cast<std::uint32_t>(sphinx::kMaxHops) - 1;
constexpr std::size_t kMaxNameLength = 32;
constexpr std::size_t kMaxAddressLength = 255;
// The names mixnode/policy.h parses (ParsePolicyKind); the consensus carries them verbatim.
constexpr std::array<std::string_view, 4> kMixingPolicies = {"threshold-timeout", "timed", "pool",
                                                             "continuous"};

ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Empty if `address` is "tcp://HOST:PORT" with HOST a DNS name, an IPv4 address or a bracketed
// IPv6 address and PORT in 1..65535; otherwise what is wrong with it.
std::string AddressProblem(std::string_view address) {
  constexpr std::string_view kScheme = "tcp://";
  const std::string expected = "expected \"tcp://HOST:PORT\"";
  if (address.size() > kMaxAddressLength) {
    return fmt::format("longer than {} characters", kMaxAddressLength);
  }
  if (!address.starts_with(kScheme)) {
    return fmt::format("must start with \"tcp://\" ({}), got {}", expected, Quote(address));
  }
  const std::string_view rest = address.substr(kScheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    return fmt::format("has no port ({}), got {}", expected, Quote(address));
  }
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port = rest.substr(colon + 1);
  std::uint32_t port_number = 0;
  if (IsDigits(port) && port.size() <= 5) {
    for (char c : port) port_number = port_number * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (port_number < 1 || port_number > 65535 || port.front() == '0') {
    return fmt::format("port must be a number in 1..65535 ({}), got {}", expected, Quote(address));
  }
  bool host_ok = !host.empty();
  if (host.starts_with('[')) {  // [IPv6]
    host_ok = host.size() > 2 && host.ends_with(']');
    for (char c : host.substr(1, host.size() >= 2 ? host.size() - 2 : 0)) {
      host_ok = host_ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                            (c >= 'A' && c <= 'F') || c == ':' || c == '.');
    }
  } else {
    for (char c : host) {
      host_ok = host_ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '.' || c == '-');
    }
  }
  if (!host_ok) {
    return fmt::format("host must be a DNS name, an IPv4 address or an [IPv6] address ({}), got {}",
                       expected, Quote(address));
  }
  return {};
}

// "2024-05-01 12:00:00 UTC (unix 1714564800)".
std::string FormatTime(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char buf[64];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    return fmt::format("unix {}", unix_seconds);
  }
  return fmt::format("{} (unix {})", buf, unix_seconds);
}

// Protocol rules on one descriptor's values. `prefix` locates it in its document ("nodes[2]").
Status CheckDescriptor(const NodeDescriptor& d, std::string_view doc, std::string_view prefix) {
  if (!IsName(d.name)) {
    return FieldError(doc, FieldPath(prefix, "name"),
                      fmt::format("must be 1 to {} characters from a-z, 0-9 and '-', got {}",
                                  kMaxNameLength, Quote(d.name)));
  }
  if (std::string problem = AddressProblem(d.address); !problem.empty()) {
    return FieldError(doc, FieldPath(prefix, "address"), problem);
  }
  if (d.role == NodeRole::kMix && (d.layer < 1 || d.layer > kMaxMixLayer)) {
    return FieldError(doc, FieldPath(prefix, "layer"),
                      fmt::format("a mix's layer is its position in its cascade, 1..{}; got {}",
                                  kMaxMixLayer, d.layer));
  }
  if (d.role == NodeRole::kProvider && d.layer != 0) {
    return FieldError(doc, FieldPath(prefix, "layer"),
                      fmt::format("a provider's layer must be 0, got {}", d.layer));
  }
  const std::string keys = FieldPath(prefix, "routing_keys");
  if (d.routing_keys.empty()) return FieldError(doc, keys, "must list at least one routing key");
  for (std::size_t i = 1; i < d.routing_keys.size(); ++i) {
    if (d.routing_keys[i].epoch <= d.routing_keys[i - 1].epoch) {
      return FieldError(doc, FieldPath(FieldPath(keys, i), "epoch"),
                        fmt::format("epochs must be strictly ascending; {} follows {}",
                                    d.routing_keys[i].epoch, d.routing_keys[i - 1].epoch));
    }
  }
  return Status::Ok();
}

Status CheckParams(const NetworkParams& p, std::string_view doc) {
  auto error = [&](std::string_view field, std::string_view problem) {
    return FieldError(doc, FieldPath("params", field), problem);
  };
  bool known_policy = false;
  std::string names;
  for (auto name : kMixingPolicies) {
    known_policy = known_policy || p.mixing_policy == name;
    names += names.empty() ? "" : ", ";
    names += name;
  }
  if (!known_policy) {
    return error("mixing_policy",
                 fmt::format("must be one of {}; got {}", names, Quote(p.mixing_policy)));
  }
  struct Range {
    std::string_view field;
    std::uint32_t value, min, max;
  };
  constexpr std::uint32_t kAny = std::numeric_limits<std::uint32_t>::max();
  const Range ranges[] = {
      {"batch_size", p.batch_size, 1, kAny},
      {"batch_timeout_ms", p.batch_timeout_ms, 1, kAny},
      {"pool_keep_percent", p.pool_keep_percent, 0, 99},
      {"mean_delay_ms", p.mean_delay_ms, 1, sphinx::kMaxDelayMs},
      {"send_rate_per_min", p.send_rate_per_min, 1, kAny},
      {"fetch_interval_ms", p.fetch_interval_ms, 1, kAny},
      {"mail_retention_s", p.mail_retention_s, 1, kAny},
  };
  for (const Range& r : ranges) {
    if (r.value < r.min || r.value > r.max) {
      return error(r.field, fmt::format("must be in {}..{}, got {}", r.min, r.max, r.value));
    }
  }
  return Status::Ok();
}

Status CheckCascades(const Consensus& c, const std::map<sphinx::NodeId, std::size_t>& index,
                     std::string_view doc) {
  std::map<sphinx::NodeId, std::size_t> cascade_of;  // mix → the cascade it is in
  for (std::size_t i = 0; i < c.cascades.size(); ++i) {
    const std::string path = FieldPath("cascades", i);
    const auto& cascade = c.cascades[i];
    if (cascade.empty()) return FieldError(doc, path, "a cascade must list at least one mix");
    if (cascade.size() > kMaxMixLayer) {
      return FieldError(doc, path,
                        fmt::format("{} mixes; at most {} fit in a path with a provider when "
                                    "Sphinx paths have at most {} hops",
                                    cascade.size(), kMaxMixLayer, sphinx::kMaxHops));
    }
    for (std::size_t j = 0; j < cascade.size(); ++j) {
      const std::string entry = FieldPath(path, j);
      const auto found = index.find(cascade[j]);
      if (found == index.end()) {
        return FieldError(doc, entry,
                          fmt::format("node {} is not listed in 'nodes'", ToHex(cascade[j])));
      }
      const NodeDescriptor& node = c.nodes[found->second];
      if (node.role != NodeRole::kMix) {
        return FieldError(doc, entry,
                          fmt::format("node '{}' is a {}; cascades hold mixes only", node.name,
                                      NodeRoleName(node.role)));
      }
      if (node.layer != j + 1) {
        return FieldError(doc, entry,
                          fmt::format("mix '{}' is at position {} of its cascade but its layer "
                                      "is {}",
                                      node.name, j + 1, node.layer));
      }
      if (const auto [it, fresh] = cascade_of.emplace(cascade[j], i); !fresh) {
        return FieldError(doc, entry,
                          fmt::format("mix '{}' is already in cascades[{}]; a mix belongs to "
                                      "one cascade",
                                      node.name, it->second));
      }
    }
  }
  return Status::Ok();
}

Status CheckConsensus(const Consensus& c, std::string_view doc) {
  if (c.valid_after < 0) {
    return FieldError(doc, "valid_after", fmt::format("must be at least 0, got {}", c.valid_after));
  }
  if (c.valid_until <= c.valid_after) {
    return FieldError(
        doc, "valid_until",
        fmt::format("must be after valid_after ({}), got {}", c.valid_after, c.valid_until));
  }
  if (c.epoch_length_s == 0) return FieldError(doc, "epoch_length_s", "must be at least 1");
  std::map<sphinx::NodeId, std::size_t> index;
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    const std::string path = FieldPath("nodes", i);
    const NodeDescriptor& node = c.nodes[i];
    if (Status s = CheckDescriptor(node, doc, path); !s.ok()) return s;
    if (const auto [it, fresh] = index.emplace(node.id(), i); !fresh) {
      return FieldError(doc, FieldPath(path, "identity"),
                        fmt::format("node id {} is already used by nodes[{}]",
                                    ToHex(node.identity.bytes), it->second));
    }
    if (const auto [it, fresh] = by_name.emplace(node.name, i); !fresh) {
      return FieldError(
          doc, FieldPath(path, "name"),
          fmt::format("name '{}' is already used by nodes[{}]", node.name, it->second));
    }
    if (!node.RoutingKeyFor(c.epoch)) {
      return FieldError(doc, FieldPath(path, "routing_keys"),
                        fmt::format("node '{}' has no routing key for epoch {}, the epoch of "
                                    "this consensus",
                                    node.name, c.epoch));
    }
  }
  if (Status s = CheckParams(c.params, doc); !s.ok()) return s;
  return CheckCascades(c, index, doc);
}

Status AsInvalidArgument(const Status& s) {
  return s.ok() ? s : Status::InvalidArgument(s.message());
}

// Signing an invalid document is a bug in the signer: say why, then abort.
void CheckSignable(const Status& s, const char* function) {
  if (!s.ok()) {
    std::fprintf(stderr, "sotto: %s called with an invalid document (validate it first): %s\n",
                 function, s.message().c_str());
    std::abort();
  }
}

}  // namespace

std::string_view NodeRoleName(NodeRole role) {
  switch (role) {
    case NodeRole::kMix:
      return "mix";
    case NodeRole::kProvider:
      return "provider";
  }
  return "unknown";
}

Result<NodeRole> ParseNodeRole(std::string_view name) {
  if (name == "mix") return NodeRole::kMix;
  if (name == "provider") return NodeRole::kProvider;
  return Status::InvalidArgument(
      fmt::format("unknown node role {} (expected \"mix\" or \"provider\")", Quote(name)));
}

std::optional<PublicKey> NodeDescriptor::RoutingKeyFor(std::uint64_t epoch) const {
  for (const EpochKey& k : routing_keys) {
    if (k.epoch == epoch) return k.key;
  }
  return std::nullopt;
}

const NodeDescriptor* Consensus::FindNode(const sphinx::NodeId& id) const {
  for (const NodeDescriptor& node : nodes) {
    if (node.id() == id) return &node;
  }
  return nullptr;
}

std::vector<const NodeDescriptor*> Consensus::Providers() const {
  std::vector<const NodeDescriptor*> out;
  for (const NodeDescriptor& node : nodes) {
    if (node.role == NodeRole::kProvider) out.push_back(&node);
  }
  return out;
}

Status ValidateDescriptor(const NodeDescriptor& descriptor) {
  return AsInvalidArgument(CheckDescriptor(descriptor, kDescriptorDoc, ""));
}

Status ValidateConsensus(const Consensus& consensus) {
  return AsInvalidArgument(CheckConsensus(consensus, kConsensusDoc));
}

std::string SignDescriptor(const NodeDescriptor& descriptor, const SigningKey& identity) {
  CheckSignable(CheckDescriptor(descriptor, kDescriptorDoc, ""), "SignDescriptor");
  CheckSignable(descriptor.identity == identity.verify_key()
                    ? Status::Ok()
                    : Status::InvalidArgument("the descriptor names a different identity key "
                                              "than the one signing it"),
                "SignDescriptor");
  const std::string body = internal::DescriptorToJson(descriptor).dump();
  return internal::EncodeSignedDocument(body, identity.Sign(kDescriptorLabel, AsBytes(body)));
}

Result<NodeDescriptor> VerifyDescriptor(std::string_view document) {
  auto signed_doc = internal::DecodeSignedDocument(document, kDescriptorDoc);
  if (!signed_doc.ok()) return signed_doc.status();
  const std::string& text = signed_doc->body;
  auto body = internal::ParseStrictJson(text, "descriptor body");
  if (!body.ok()) return body.status();
  auto identity = internal::DescriptorIdentity(*body);
  if (!identity.ok()) return identity.status();
  if (!VerifySignature(*identity, kDescriptorLabel, AsBytes(text), signed_doc->signature)) {
    return Status::CryptoError(fmt::format(
        "descriptor signature does not verify against the identity key it names ({}); the "
        "descriptor was forged or modified after signing",
        ToHex(identity->bytes)));
  }
  auto descriptor = internal::DescriptorFromJson(*body);
  if (!descriptor.ok()) return descriptor.status();
  if (Status s = internal::CheckCanonical(*body, text, kDescriptorDoc); !s.ok()) return s;
  if (Status s = CheckDescriptor(*descriptor, kDescriptorDoc, ""); !s.ok()) return s;
  return descriptor;
}

std::string SignConsensus(const Consensus& consensus, const SigningKey& authority) {
  CheckSignable(CheckConsensus(consensus, kConsensusDoc), "SignConsensus");
  const std::string body = internal::ConsensusToJson(consensus).dump();
  return internal::EncodeSignedDocument(body, authority.Sign(kConsensusLabel, AsBytes(body)));
}

Result<Consensus> VerifyConsensus(std::string_view document, const VerifyKey& authority,
                                  std::int64_t now_unix) {
  auto signed_doc = internal::DecodeSignedDocument(document, kConsensusDoc);
  if (!signed_doc.ok()) return signed_doc.status();
  const std::string& text = signed_doc->body;
  if (!VerifySignature(authority, kConsensusLabel, AsBytes(text), signed_doc->signature)) {
    return Status::CryptoError(fmt::format(
        "consensus signature does not verify against the authority key {}; the document was "
        "forged, modified after signing, or signed by another authority (check the authority "
        "key in the configuration)",
        ToHex(authority.bytes)));
  }
  auto body = internal::ParseStrictJson(text, "consensus body");
  if (!body.ok()) return body.status();
  auto consensus = internal::ConsensusFromJson(*body);
  if (!consensus.ok()) return consensus.status();
  if (Status s = internal::CheckCanonical(*body, text, kConsensusDoc); !s.ok()) return s;
  const Consensus& c = *consensus;
  // Before the consistency checks, whose limits depend on kMaxHops.
  if (c.sphinx_max_hops != sphinx::kMaxHops) {
    return Status::InvalidArgument(fmt::format(
        "consensus field 'sphinx_max_hops': the network uses Sphinx paths of at most {} hops, but "
        "this build uses {}; rebuild with -DSOTTO_SPHINX_MAX_HOPS={}",
        c.sphinx_max_hops, sphinx::kMaxHops, c.sphinx_max_hops));
  }
  if (c.packet_size != sphinx::kPacketSize) {
    return Status::InvalidArgument(fmt::format(
        "consensus field 'packet_size': the network uses {}-byte Sphinx packets, but this build "
        "uses {}; the network runs a different Sotto protocol version (upgrade to match it)",
        c.packet_size, sphinx::kPacketSize));
  }
  if (Status s = CheckConsensus(c, kConsensusDoc); !s.ok()) return s;
  if (now_unix < c.valid_after) {
    return Status::InvalidArgument(fmt::format(
        "consensus for epoch {} is not valid yet: field 'valid_after' is {}, but now is {}; "
        "check this machine's clock",
        c.epoch, FormatTime(c.valid_after), FormatTime(now_unix)));
  }
  if (now_unix > c.valid_until) {
    return Status::InvalidArgument(fmt::format(
        "consensus for epoch {} is stale: field 'valid_until' is {}, but now is {}; fetch a "
        "fresh consensus from the directory authority, or check this machine's clock",
        c.epoch, FormatTime(c.valid_until), FormatTime(now_unix)));
  }
  return consensus;
}

}  // namespace sotto::directory
