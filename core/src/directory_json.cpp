// Strict JSON encoding and decoding of directory documents (see directory_json.h). Nothing here
// throws to the caller: every nlohmann exception is caught and becomes a Status.
#include "directory_json.h"

#include <fmt/format.h>

#include <initializer_list>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sotto/core/bytes.h"

namespace sotto::directory::internal {
namespace {

using nlohmann::json;

// ---- Paths and messages -------------------------------------------------------------------

std::string Child(std::string_view path, std::string_view key) { return FieldPath(path, key); }
std::string Index(std::string_view path, std::size_t i) { return FieldPath(path, i); }

// "a string", "an object", …: what was found where something else was expected.
std::string Describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a non-integer number";
    default:
      return "an unsupported value";
  }
}

// ---- Strict parsing -----------------------------------------------------------------------

// Thrown from the parser callback to abort parsing; caught in ParseStrictJson.
class StrictJsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// nlohmann messages look like "[json.exception.parse_error.101] parse error at line 1, …; last
// read: '…'": keep the human part, bounded, since "last read" echoes the input.
std::string NlohmannMessage(const json::exception& e) {
  std::string_view what = e.what();
  if (const auto close = what.find("] "); what.starts_with("[json.") && close != what.npos) {
    what.remove_prefix(close + 2);
  }
  constexpr std::size_t kMax = 160;
  std::string out(what.substr(0, kMax));
  if (what.size() > kMax) out += "...";
  return out;
}

// ---- Typed field readers (the object's key set has been checked first) --------------------

class Reader {
 public:
  explicit Reader(std::string_view doc) : doc_(doc) {}

  Status Error(std::string_view path, std::string_view problem) const {
    return FieldError(doc_, path, problem);
  }

  // `v` must be an object whose keys are exactly `fields`.
  Status Object(const json& v, std::string_view path,
                std::initializer_list<std::string_view> fields) const {
    if (!v.is_object()) {
      return Error(path.empty() ? "(top level)" : path, "expected an object, got " + Describe(v));
    }
    for (const auto& [key, value] : v.items()) {
      bool known = false;
      for (auto f : fields) known = known || key == f;
      if (!known) {
        return Error(Child(path, key),
                     "unknown field (this version of Sotto does not understand it; if the "
                     "document comes from a newer version, upgrade)");
      }
    }
    for (auto f : fields) {
      if (!v.contains(f)) return Error(Child(path, f), "missing");
    }
    return Status::Ok();
  }

  template <class T>
  Status Integer(const json& obj, std::string_view path, std::string_view key, T& out) const {
    const json& v = obj.find(key).value();
    const std::string where = Child(path, key);
    const std::string range = fmt::format("an integer in {}..{}", std::numeric_limits<T>::min(),
                                          std::numeric_limits<T>::max());
    if (!v.is_number_integer())
      return Error(where, fmt::format("expected {}, got {}", range, Describe(v)));
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (!std::in_range<T>(u)) return Error(where, fmt::format("expected {}, got {}", range, u));
      out = static_cast<T>(u);
    } else {
      const auto s = v.get<std::int64_t>();
      if (!std::in_range<T>(s)) return Error(where, fmt::format("expected {}, got {}", range, s));
      out = static_cast<T>(s);
    }
    return Status::Ok();
  }

  Status String(const json& obj, std::string_view path, std::string_view key,
                std::string& out) const {
    const json& v = obj.find(key).value();
    if (!v.is_string()) return Error(Child(path, key), "expected a string, got " + Describe(v));
    out = v.get<std::string>();
    return Status::Ok();
  }

  template <std::size_t N>
  Status Hex(const json& v, std::string_view where, std::array<std::uint8_t, N>& out) const {
    const std::string expected = fmt::format("expected {} lowercase hex digits", 2 * N);
    if (!v.is_string()) return Error(where, fmt::format("{}, got {}", expected, Describe(v)));
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() != 2 * N) return Error(where, fmt::format("{}, got {}", expected, s.size()));
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return Error(where, fmt::format("{}, got {}", expected, Quote(s)));
      }
    }
    auto bytes = FixedFromHex<N>(s);
    if (!bytes.ok()) return Error(where, expected);
    out = *bytes;
    return Status::Ok();
  }

  template <std::size_t N>
  Status HexField(const json& obj, std::string_view path, std::string_view key,
                  std::array<std::uint8_t, N>& out) const {
    return Hex(obj.find(key).value(), Child(path, key), out);
  }

  Status Array(const json& obj, std::string_view path, std::string_view key) const {
    const json& v = obj.find(key).value();
    if (!v.is_array()) return Error(Child(path, key), "expected an array, got " + Describe(v));
    return Status::Ok();
  }

 private:
  std::string_view doc_;
};

#define SOTTO_RETURN_IF_ERROR(expr)     \
  do {                                  \
    if (Status s_ = (expr); !s_.ok()) { \
      return s_;                        \
    }                                   \
  } while (0)

// ---- Descriptor -----------------------------------------------------------------------------

Status ReadDescriptor(const Reader& r, const json& v, std::string_view path, NodeDescriptor& d) {
  SOTTO_RETURN_IF_ERROR(r.Object(
      v, path, {"address", "identity", "layer", "link_key", "name", "role", "routing_keys"}));
  SOTTO_RETURN_IF_ERROR(r.String(v, path, "name", d.name));
  SOTTO_RETURN_IF_ERROR(r.HexField(v, path, "identity", d.identity.bytes));
  SOTTO_RETURN_IF_ERROR(r.HexField(v, path, "link_key", d.link_key));
  SOTTO_RETURN_IF_ERROR(r.String(v, path, "address", d.address));
  std::string role;
  SOTTO_RETURN_IF_ERROR(r.String(v, path, "role", role));
  auto parsed_role = ParseNodeRole(role);
  if (!parsed_role.ok()) return r.Error(Child(path, "role"), parsed_role.status().message());
  d.role = *parsed_role;
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "layer", d.layer));
  SOTTO_RETURN_IF_ERROR(r.Array(v, path, "routing_keys"));
  const std::string keys_path = Child(path, "routing_keys");
  const json& keys = v.find("routing_keys").value();
  d.routing_keys.clear();
  d.routing_keys.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string p = Index(keys_path, i);
    EpochKey k;
    SOTTO_RETURN_IF_ERROR(r.Object(keys[i], p, {"epoch", "key"}));
    SOTTO_RETURN_IF_ERROR(r.Integer(keys[i], p, "epoch", k.epoch));
    SOTTO_RETURN_IF_ERROR(r.HexField(keys[i], p, "key", k.key.bytes));
    d.routing_keys.push_back(k);
  }
  return Status::Ok();
}

// ---- Consensus ------------------------------------------------------------------------------

Status ReadParams(const Reader& r, const json& v, std::string_view path, NetworkParams& p) {
  SOTTO_RETURN_IF_ERROR(
      r.Object(v, path,
               {"batch_size", "batch_timeout_ms", "cover_drop_per_min", "cover_loop_per_min",
                "fetch_interval_ms", "mail_retention_s", "mean_delay_ms", "min_batch",
                "mixing_policy", "pool_keep_percent", "send_rate_per_min"}));
  SOTTO_RETURN_IF_ERROR(r.String(v, path, "mixing_policy", p.mixing_policy));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "batch_size", p.batch_size));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "batch_timeout_ms", p.batch_timeout_ms));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "pool_keep_percent", p.pool_keep_percent));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "mean_delay_ms", p.mean_delay_ms));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "min_batch", p.min_batch));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "cover_drop_per_min", p.cover_drop_per_min));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "cover_loop_per_min", p.cover_loop_per_min));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "send_rate_per_min", p.send_rate_per_min));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "fetch_interval_ms", p.fetch_interval_ms));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, path, "mail_retention_s", p.mail_retention_s));
  return Status::Ok();
}

Status ReadConsensus(const Reader& r, const json& v, Consensus& c) {
  SOTTO_RETURN_IF_ERROR(r.Object(v, "",
                                 {"cascades", "epoch", "epoch_length_s", "nodes", "packet_size",
                                  "params", "sphinx_max_hops", "valid_after", "valid_until"}));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, "", "epoch", c.epoch));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, "", "valid_after", c.valid_after));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, "", "valid_until", c.valid_until));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, "", "epoch_length_s", c.epoch_length_s));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, "", "sphinx_max_hops", c.sphinx_max_hops));
  SOTTO_RETURN_IF_ERROR(r.Integer(v, "", "packet_size", c.packet_size));
  SOTTO_RETURN_IF_ERROR(r.Array(v, "", "nodes"));
  const json& nodes = v.find("nodes").value();
  c.nodes.clear();
  c.nodes.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    NodeDescriptor d;
    SOTTO_RETURN_IF_ERROR(ReadDescriptor(r, nodes[i], Index("nodes", i), d));
    c.nodes.push_back(std::move(d));
  }
  SOTTO_RETURN_IF_ERROR(r.Array(v, "", "cascades"));
  const json& cascades = v.find("cascades").value();
  c.cascades.clear();
  c.cascades.reserve(cascades.size());
  for (std::size_t i = 0; i < cascades.size(); ++i) {
    const std::string p = Index("cascades", i);
    const json& cascade = cascades[i];
    if (!cascade.is_array()) return r.Error(p, "expected an array, got " + Describe(cascade));
    std::vector<sphinx::NodeId> ids(cascade.size());
    for (std::size_t j = 0; j < cascade.size(); ++j) {
      SOTTO_RETURN_IF_ERROR(r.Hex(cascade[j], Index(p, j), ids[j]));
    }
    c.cascades.push_back(std::move(ids));
  }
  return ReadParams(r, v.find("params").value(), "params", c.params);
}

}  // namespace

Status FieldError(std::string_view doc, std::string_view path, std::string_view problem) {
  return Status::Corruption(fmt::format("{} field '{}': {}", doc, path, problem));
}

std::string FieldPath(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return fmt::format("{}.{}", parent, child);
}

std::string FieldPath(std::string_view parent, std::size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string Quote(std::string_view text) {
  constexpr std::size_t kMax = 48;
  const json s = std::string(text.substr(0, kMax));
  std::string out = s.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMax) out += "...";
  return out;
}

std::string EncodeSignedDocument(std::string_view body, const Signature& signature) {
  json doc = json::object();
  doc["body"] = std::string(body);
  doc["signature"] = ToHex(signature);
  // `replace` only matters for a body that is not UTF-8, which no signer produces; it keeps
  // this function from throwing.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<SignedDocument> DecodeSignedDocument(std::string_view text, std::string_view doc) {
  if (text.size() > kMaxDocumentSize) {
    return Status::Corruption(fmt::format("{} document is {} bytes; at most {} are accepted", doc,
                                          text.size(), kMaxDocumentSize));
  }
  auto parsed = ParseStrictJson(text, fmt::format("{} document", doc));
  if (!parsed.ok()) return parsed.status();
  const Reader r(doc);
  const json& v = *parsed;
  if (Status s = r.Object(v, "", {"body", "signature"}); !s.ok()) {
    return Status::Corruption(
        fmt::format("{} (a signed {} is {{\"body\": \"<JSON text>\", \"signature\": \"<hex>\"}})",
                    s.message(), doc));
  }
  SignedDocument out;
  if (Status s = r.String(v, "", "body", out.body); !s.ok()) return s;
  if (Status s = r.HexField(v, "", "signature", out.signature); !s.ok()) return s;
  return out;
}

json DescriptorToJson(const NodeDescriptor& d) {
  json keys = json::array();
  for (const EpochKey& k : d.routing_keys) {
    keys.push_back(json{{"epoch", k.epoch}, {"key", ToHex(k.key.bytes)}});
  }
  return json{{"name", d.name},
              {"identity", ToHex(d.identity.bytes)},
              {"link_key", ToHex(d.link_key)},
              {"address", d.address},
              {"role", std::string(NodeRoleName(d.role))},
              {"layer", d.layer},
              {"routing_keys", std::move(keys)}};
}

json ConsensusToJson(const Consensus& c) {
  json nodes = json::array();
  for (const NodeDescriptor& d : c.nodes) nodes.push_back(DescriptorToJson(d));
  json cascades = json::array();
  for (const auto& cascade : c.cascades) {
    json ids = json::array();
    for (const sphinx::NodeId& id : cascade) ids.push_back(ToHex(id));
    cascades.push_back(std::move(ids));
  }
  const NetworkParams& p = c.params;
  json params = {
      {"mixing_policy", p.mixing_policy},           {"batch_size", p.batch_size},
      {"batch_timeout_ms", p.batch_timeout_ms},     {"pool_keep_percent", p.pool_keep_percent},
      {"mean_delay_ms", p.mean_delay_ms},           {"min_batch", p.min_batch},
      {"cover_drop_per_min", p.cover_drop_per_min}, {"cover_loop_per_min", p.cover_loop_per_min},
      {"send_rate_per_min", p.send_rate_per_min},   {"fetch_interval_ms", p.fetch_interval_ms},
      {"mail_retention_s", p.mail_retention_s}};
  return json{{"epoch", c.epoch},
              {"valid_after", c.valid_after},
              {"valid_until", c.valid_until},
              {"epoch_length_s", c.epoch_length_s},
              {"sphinx_max_hops", c.sphinx_max_hops},
              {"packet_size", c.packet_size},
              {"nodes", std::move(nodes)},
              {"cascades", std::move(cascades)},
              {"params", std::move(params)}};
}

Result<json> ParseStrictJson(std::string_view text, std::string_view what) {
  // One entry per open container: the keys seen so far (always empty for arrays).
  std::vector<std::set<std::string>> open;
  auto check = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (open.size() >= static_cast<std::size_t>(kMaxJsonDepth)) {
          throw StrictJsonError(fmt::format("nested deeper than {} levels", kMaxJsonDepth));
        }
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.back().insert(parsed.get<std::string>()).second) {
          throw StrictJsonError(
              fmt::format("key {} appears twice in one object", Quote(parsed.get<std::string>())));
        }
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const StrictJsonError& e) {
    return Status::Corruption(fmt::format("{} is not acceptable JSON: {}", what, e.what()));
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("{} is not valid JSON: {}", what, NlohmannMessage(e)));
  }
}

Result<VerifyKey> DescriptorIdentity(const json& body) {
  const Reader r(kDescriptorDoc);
  if (!body.is_object()) {
    return r.Error("(top level)", "expected an object, got " + Describe(body));
  }
  if (!body.contains("identity")) return r.Error("identity", "missing");
  VerifyKey key;
  if (Status s = r.HexField(body, "", "identity", key.bytes); !s.ok()) return s;
  return key;
}

Result<NodeDescriptor> DescriptorFromJson(const json& body) {
  try {
    NodeDescriptor d;
    if (Status s = ReadDescriptor(Reader(kDescriptorDoc), body, "", d); !s.ok()) return s;
    return d;
  } catch (const json::exception& e) {  // not expected: every access is type-checked first
    return Status::Corruption(fmt::format("descriptor: {}", NlohmannMessage(e)));
  }
}

Result<Consensus> ConsensusFromJson(const json& body) {
  try {
    Consensus c;
    if (Status s = ReadConsensus(Reader(kConsensusDoc), body, c); !s.ok()) return s;
    return c;
  } catch (const json::exception& e) {  // not expected: every access is type-checked first
    return Status::Corruption(fmt::format("consensus: {}", NlohmannMessage(e)));
  }
}

Status CheckCanonical(const json& body, std::string_view text, std::string_view doc) {
  std::string canonical;
  try {
    canonical = body.dump();
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("{} body: {}", doc, NlohmannMessage(e)));
  }
  if (canonical != text) {
    return Status::Corruption(fmt::format(
        "{} body is not in canonical form (object keys sorted, no whitespace, integers written "
        "plainly; see papers/network-spec.md); it was not produced by a Sotto signer",
        doc));
  }
  return Status::Ok();
}

}  // namespace sotto::directory::internal
