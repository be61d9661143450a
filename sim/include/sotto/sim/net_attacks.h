// Attacks over the simulated network (issue 9): the same scenario as `sotto-sim run` — clients
// with their payload, loop and drop streams, providers with their policy, the mixes, node
// dummies, corrupt nodes — attacked through the engine's Observer (simulator.h), which sees what
// a global passive observer sees plus what corrupt nodes reveal. Unlike the bare-mix attacks of
// attacks.h, nothing is idealised away: cover traffic, both providers and every hop are there.
//
// Every attack ends with the success measure the adversary harness uses on the real testnet:
// for each real message (each real packet of a message created in [burn_in_s, duration_s) and
// delivered), the adversary's distribution over senders; from it, the success of its best guess
// (1/k when the true sender is among the k most likely, else 0) against chance (1/clients, or
// 1/(clients − 1) when the adversary knows the recipient and that nobody writes to himself), and
// the entropy of the distribution in bits. Means come with 95% intervals: over the repetitions
// (Student t) when there are two or more, else over the messages of the one run (normal
// approximation, which ignores that messages of one round are correlated).
//
// What each adversary uses (ground truth — kinds, senders, message ids — only scores it):
//   trace   the global passive observer: every link's packets with their times (kSend, kArrive,
//           kHop events: which node a packet leaves, and, one hop later, enters), the policy of
//           every node and the pool-size rule of pool mixes, and at corrupt nodes (and
//           pass-through providers, whose input and output coincide) which input each output
//           is, and which outputs are the node's own dummies. It propagates beliefs exactly as
//           the engine's entropy does (a batch round's outputs get the mixture of its inputs, a
//           continuous mix's departures the mixture of what is inside), from these observations
//           alone; its entropies therefore equal the engine's (tested), and its best guesses add
//           the success rate.
//   timing  the same observer correlating end to end: it learns the network's distribution of
//           delays from client to final provider (a histogram, as it could with its own probe
//           packets; here from the packets sent before burn_in_s) and scores every client send
//           in the window before a packet's arrival at its final provider by that density,
//           summed per sender. It does not track rounds; against one continuous mix it is the
//           bare-mix timing attack of attacks.h (top-1 ≈ 1/(1 + λ/μ)).
//   sda     statistical disclosure over the run: the trace observer plus the recipient side —
//           `sda_view = mailbox`: which client's mailbox each packet reaches (a corrupt
//           recipient provider, or the fetch timing of leak 6), real mail and loops alike;
//           `provider`: only the provider. It learns each sender's recipient profile from the
//           beliefs of all packets delivered so far (soft counts: the expected number of packets
//           from s to r) and scores each real message by its trace belief times the sender's
//           learned profile at the message's recipient (Danezis's SDA with the mixing
//           posteriors of Troncoso et al.'s Bayesian variant in place of rounds). For the
//           target client it also reports when its friends (the `friends` largest entries of
//           its profile minus the background) are named and stay named until the evidence has
//           doubled, as the bare-mix SDA does.
//   flood   the n-1 attacker of RunOptions::flood (simulator.h) on the target's provider, for
//           threshold-timeout mixes: it delays every other client's packet into that provider
//           from flood_start_s to flood_end_s, flushes the cascade with its own packets before
//           each of the target's packets, and sends the target's packet with threshold − 1 of
//           its own; scored by the trace observer that knows the attacker's packets. The
//           target's messages are the scored ones (and, separately, everyone else's); the
//           held packets and loops are reported, since a client whose loops stop returning can
//           notice the attack.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sotto/core/status.h"
#include "sotto/sim/attacks.h"
#include "sotto/sim/results.h"
#include "sotto/sim/scenario.h"
#include "sotto/sim/sweep.h"

namespace sotto::sim::netattack {

enum class Kind : std::uint8_t { kTrace, kTiming, kSda, kFlood };
enum class SdaView : std::uint8_t { kMailbox, kProvider };

// "trace" | "timing" | "sda" | "flood".
Result<Kind> ParseKind(std::string_view name);
std::string_view KindName(Kind kind);

struct Config {
  Kind kind = Kind::kTrace;
  // The adversary knows each message's recipient and that nobody writes to himself (the
  // recipient is left out of its guesses; chance 1/(clients − 1)).
  bool exclude_recipient = false;
  // timing: candidate window before an arrival, seconds (0: the 99.9th percentile of the learned
  // delays); at most this many histogram bins for the learned delay density (fewer when there
  // are fewer than 50 samples per bin, at least 8).
  double window_s = 0;
  std::uint32_t histogram_bins = 200;
  // sda: what the adversary sees where packets end; the client whose friends it names.
  SdaView sda_view = SdaView::kMailbox;
  std::uint32_t target = 0;
  // flood: the attack window in seconds of simulated time (default: the measured window), and
  // whether the attacker also delays the other providers' links into the first mixes.
  double flood_start_s = -1, flood_end_s = -1;  // < 0: burn_in_s and duration_s
  bool hold_other_providers = false;

  // Checks the fields and their fit with the scenario (e.g. flood needs threshold-timeout
  // policies, timing a burn-in to learn from); the message names the field.
  Status Validate(const Scenario& scenario) const;
};

// One scored real packet.
struct Score {
  std::uint64_t message = 0;
  std::uint32_t sender = 0, recipient = 0;
  std::int64_t created_us = 0, delivered_us = 0;
  double entropy_bits = 0;
  double success = 0;  // 1/k if the sender is among the k most likely, else 0
  double chance = 0;
  bool target = false;  // flood: a packet of the target
};

struct RunResult {
  std::uint64_t point = 0, repetition = 0;
  Results results;  // the engine's own measures of this run
  std::vector<Score> scores;
  // Over the scored packets (flood: the target's only; `others_*` the rest).
  std::uint64_t scored = 0;
  double success = 0, entropy = 0, chance = 0;
  std::uint64_t others_scored = 0;
  double others_success = 0, others_entropy = 0;
  // sda: Alice's (the target's) packets sent when her friends were named for good, and her
  // real messages by then; 0 if not within the run.
  std::uint64_t sda_target_sends = 0, sda_target_messages = 0;
  bool sda_identified = false;
  // timing: the window used, seconds.
  double window_s = 0;
  bool split_by_target = false;  // flood: `scored` counts the target's packets only
};

// One repetition: the scenario's run (point, repetition) with the attack on it.
Result<RunResult> RunOnce(const Scenario& scenario, const Config& config, std::uint64_t point = 0,
                          std::uint64_t repetition = 0);

// The runs of one point, summarised.
struct PointResult {
  std::uint64_t point = 0;
  std::vector<RunResult> runs;
  attacks::MeanCi success, entropy, chance;  // over the runs (n ≥ 2) or the messages (n = 1)
  bool ci_over_runs = false;
  attacks::MeanCi others_success, others_entropy;
  double sda_identified_rate = 0;
  attacks::MeanCi sda_target_sends, sda_target_messages;  // over the runs that identified
  double held_loops_mean = 0, attacker_packets_mean = 0, latency_mean_ms = 0, overhead = 0;
};

PointResult Summarize(std::uint64_t point, std::vector<RunResult> runs);

struct SweepOptions {
  unsigned jobs = 0;
  std::function<Status(const PointResult&)> on_point;  // in order, on the calling thread
  std::function<void(const SweepProgress&)> on_progress;
};

// Every point of `plan` (sweep.h: the scenario's cartesian product), plan.repetitions runs each,
// on threads; run r of point p is RunOnce(point's scenario, config, p, r).
Result<std::vector<PointResult>> RunSweep(const SweepPlan& plan, const Config& config,
                                          const SweepOptions& options = {});

// Sets one field of Config from text ("exclude_recipient=true"); the message names the field
// and what is allowed. Fields: exclude_recipient, window_s, histogram_bins, sda_view, target,
// flood_start_s, flood_end_s, hold_other_providers.
Status SetField(Config& config, std::string_view field, std::string_view value);
std::string FieldsHelp();

// CSV: the varied keys, then point, runs and the measures (one row per point).
std::string CsvHeader(const SweepPlan& plan);
std::string CsvRow(const SweepPlan& plan, const Config& config, const PointResult& point);
// One JSON line per scored packet: {"point":P,"repetition":R,"message":…,"sender":…,
// "recipient":…,"created_us":…,"delivered_us":…,"entropy_bits":…,"success":…,"chance":…}.
std::string ScoreJsonLine(std::uint64_t point, std::uint64_t repetition, const Score& score);
// One line for people.
std::string FormatPoint(const SweepPlan& plan, const Config& config, const PointResult& point);

}  // namespace sotto::sim::netattack
