// Strict JSON form of directory documents (papers/network-spec.md, "Directory documents").
// Internal to core: directory.cpp signs and verifies with it; tests use it to build hostile
// documents.
//
// Encoding is canonical: nlohmann::json::dump() with default arguments (object keys sorted, no
// whitespace), binary fields as lowercase hex, enums by name, integers only. Decoding checks JSON
// syntax, types and ranges, and refuses unknown, missing and duplicate keys; the protocol rules
// on values (name characters, addresses, layers, consistency) live in directory.cpp. Every error
// is Status::Corruption with a message that names the document and the field, e.g.
//   consensus field 'nodes[2].routing_keys[0].key': expected 64 lowercase hex digits, got 63
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "sotto/core/directory.h"
#include "sotto/core/signing.h"
#include "sotto/core/status.h"

namespace sotto::directory::internal {

// "descriptor" / "consensus": the word every message starts with.
inline constexpr std::string_view kDescriptorDoc = "descriptor";
inline constexpr std::string_view kConsensusDoc = "consensus";

// Nesting deeper than this is refused while parsing (the deepest legal path is
// consensus → nodes → node → routing_keys → key: 4 containers).
inline constexpr int kMaxJsonDepth = 8;

// Status::Corruption("<doc> field '<path>': <problem>").
Status FieldError(std::string_view doc, std::string_view path, std::string_view problem);
// Field paths in messages: "nodes[2]" + "name" → "nodes[2].name"; "" + "epoch" → "epoch".
std::string FieldPath(std::string_view parent, std::string_view child);
std::string FieldPath(std::string_view parent, std::size_t index);
// A short, printable rendering of untrusted text for messages (JSON-escaped, truncated).
std::string Quote(std::string_view text);

// ---- SignedDocument envelope: {"body": "<text>", "signature": "<128 hex digits>"} ------------

struct SignedDocument {
  std::string body;
  Signature signature{};
};

std::string EncodeSignedDocument(std::string_view body, const Signature& signature);
// Checks the size limit, JSON syntax, and that the envelope has exactly the two fields with the
// right types. Does not look inside the body.
Result<SignedDocument> DecodeSignedDocument(std::string_view text, std::string_view doc);

// ---- Bodies -------------------------------------------------------------------------------

nlohmann::json DescriptorToJson(const NodeDescriptor& descriptor);
nlohmann::json ConsensusToJson(const Consensus& consensus);

// JSON syntax only, plus: no duplicate object keys, nesting at most kMaxJsonDepth. `what` names
// the text in the message ("consensus body").
Result<nlohmann::json> ParseStrictJson(std::string_view text, std::string_view what);

// The "identity" field of a descriptor body, which names the key the descriptor must be signed
// with; read before the signature is checked, so nothing else is interpreted yet.
Result<VerifyKey> DescriptorIdentity(const nlohmann::json& body);

// Types and ranges of every field; unknown and missing fields are errors.
Result<NodeDescriptor> DescriptorFromJson(const nlohmann::json& body);
Result<Consensus> ConsensusFromJson(const nlohmann::json& body);

// The body must be byte for byte what DescriptorToJson/ConsensusToJson would write for the value
// it holds (so every document has exactly one encoding).
Status CheckCanonical(const nlohmann::json& body, std::string_view text, std::string_view doc);

}  // namespace sotto::directory::internal
