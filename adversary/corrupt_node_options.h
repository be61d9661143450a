// The options of sotto-corrupt-node beyond sotto-mixnode's: where the recording goes, the seed
// of its decisions, and how it misbehaves (adversary/README.md). Parsing never exits; an error
// names the flag, the value given and what is allowed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/mixnode/node_main.h"

namespace sotto::adversary {

struct CorruptNodeOptions {
  std::filesystem::path record;  // JSON Lines, appended to
  std::uint64_t seed = 0;
  bool seed_given = false;  // otherwise drawn from the system CSPRNG (and recorded)

  double withhold_acks = 0;  // P, decided per (previous hop, link id)
  struct Window {
    double start_s = 0;
    double length_s = 0;
  };
  std::optional<Window> withhold_window;  // seconds after start
  // Whose packets --withhold-acks and --withhold-acks-window apply to: everyone's, only
  // clients' (a sender's provider), or only nodes' (a next hop).
  enum class WithholdFrom : std::uint8_t {
    kAll,
    kClients,
    kNodes
  } withhold_from = WithholdFrom::kAll;
  std::uint32_t delay_acks_ms = 0;
  double drop = 0;      // after acknowledging
  double flip_bit = 0;  // of forwarded packets
  enum class FlipIn : std::uint8_t { kPayload, kHeader } flip_in = FlipIn::kPayload;
  double replay = 0;  // send twice
  std::uint32_t replay_after_ms = 1000;
  std::vector<std::string> hold_except;  // mailbox-id hex prefixes (lower case); empty: no hold
  double hold_release_s = 10;

  bool Misbehaves() const;
};

// The extra options, for NodeProgram (names, value names and help texts).
std::vector<mixnode::NodeProgramOption> CorruptNodeOptionList();

// From the values given (name → value, as NodeProgram::make_tap receives them).
Result<CorruptNodeOptions> ParseCorruptNodeOptions(const std::map<std::string, std::string>& v);

}  // namespace sotto::adversary
