// What one sotto-sim run measured (Results) and what it knows about each measured message
// (MessageRecord), with their CSV, JSON-lines and text forms. Only messages created in
// [burn_in_s, duration_s) are measured; counts of packets cover the same window.
// Plain values; the formatting is deterministic (shortest round-trip doubles), so two runs with
// the same seed write the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sotto/mixnode/policy.h"

namespace sotto::sim {

struct Scenario;

struct MessageRecord {
  std::uint64_t repetition = 0;  // RunOptions::repetition of the run
  std::uint64_t id = 0;  // in order of creation, from 0 (all messages of the run, measured or not)
  std::uint32_t sender = 0, recipient = 0;  // client ids
  std::uint32_t packets = 0;
  mixnode::TimeUs created_us = 0;    // entered the sender's queue
  mixnode::TimeUs delivered_us = 0;  // its last packet reached the recipient's provider
  double latency_ms = 0;
  // The lowest sender entropy of its packets, in bits (NaN when entropy is not tracked).
  // The lowest of its packets' entropies; optimistic if an observer can link the packets (the
  // product of their distributions has lower entropy). NaN when not tracked.
  double entropy_bits = 0;
  std::string corrupt_mixes;  // FormatMixList of the run's corrupt mixes
};

struct EntropyStats {  // per real packet delivered, in bits; all 0 if none or not tracked
  std::uint64_t packets = 0;
  double mean = 0, stddev = 0, min = 0, p05 = 0, p25 = 0, p50 = 0, p75 = 0, p95 = 0, max = 0;
  double effective_set_mean = 0;  // mean of 2^H
  double normalized_mean = 0;     // mean of H / log2(clients), the normalised degree
};

struct LatencyStats {  // per delivered message, creation to last packet delivered, in ms
  std::uint64_t messages = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
};

struct LayerQueue {  // pool sizes of the nodes of one layer (0 = providers, 1.. = mix layers)
  std::uint32_t layer = 0;
  double mean = 0;        // time-average pool size, averaged over the layer's nodes
  std::uint64_t max = 0;  // largest pool any of them had
};

// A mix by its place: layer (1-based) and index in the layer (the cascade number for cascades).
struct MixName {
  std::uint32_t layer = 0, index = 0;
  bool operator==(const MixName&) const = default;
};

// "1:0 3:0": the mixes as layer:index, space-separated (empty for none); the form of the CSV
// column corrupt_mix_list, the JSON field corrupt_mixes and the summary.
std::string FormatMixList(const std::vector<MixName>& mixes);

struct Results {
  std::uint64_t run_seed = 0;  // DeriveSeed(seed, point, repetition)
  std::uint64_t point = 0, repetition = 0;

  // The adversary of this run: how many mixes there are, and which ones were corrupt
  // (corrupt_layers plus the per-run draws of corrupt_mix_probability), in id order.
  std::uint32_t mixes = 0;
  std::vector<MixName> corrupt_mixes;
  bool corrupt_providers = false;

  // Messages and packets created in the measured window [burn_in_s, duration_s). Real packets
  // count by their message's creation time (a queued message's packets may leave later), so
  // delivered ≤ sent for both messages and real packets.
  std::uint64_t messages_sent = 0, messages_delivered = 0;  // delivered: by the end of the drain
  std::uint64_t real_packets_sent = 0, real_packets_delivered = 0;
  std::uint64_t payload_cover_packets = 0, loop_packets = 0, drop_packets = 0;
  std::uint64_t node_dummies = 0;
  std::uint64_t attacker_packets = 0;  // the n-1 attacker's own (RunOptions::flood); not counted
                                       // in packets_total or overhead
  std::uint64_t held_packets = 0;      // other clients' packets the n-1 attacker delayed
  std::uint64_t held_loops = 0;        // ... of which loops (their senders could notice)
  std::uint64_t packets_total = 0;     // everything clients and nodes created
  double overhead = 0;                 // packets_total / real_packets_sent (0 if no real packet)

  EntropyStats entropy;
  LatencyStats latency;
  std::vector<LayerQueue> queues;  // providers first, then each mix layer

  // The whole run, warm-up and drain included.
  std::uint64_t events = 0;            // packet arrivals at and departures from nodes
  std::uint64_t scheduled_events = 0;  // everything the event queue processed
  double simulated_s = 0;
  double wall_s = 0;  // the only field that differs between identical runs
};

// CSV: a fixed header and one row per run (never includes wall time in anything compared).
std::string ResultsCsvHeader();
std::string ResultsCsvRow(const Results& r);
// One JSON object on one line, no trailing newline.
std::string MessageJsonLine(const MessageRecord& m);
// A one-screen human summary of a run.
std::string FormatSummary(const Scenario& scenario, const Results& r);

}  // namespace sotto::sim
