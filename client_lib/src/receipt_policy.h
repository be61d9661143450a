// ReceiptPolicy: when a delivery receipt may leave (papers/client-spec.md §4.2, leak 5 of
// issue 9). With receipts on, the receipt for a message stored at time t waits until
//     t + d/2 + X,   X ~ Exponential(mean d/2),   d = the user's receipt delay (default 900 s),
// so at least d/2 and on average d after the fetch that brought the message, and then leaves in
// a payload slot like any message. A message stored while a receipt to the same person is
// still waiting joins it if that receipt is due at least d/2 from now (then it too waits at
// least d/2); otherwise it starts a new receipt. With receipts off, none is ever sent.
// Pure: the time is passed in (Unix milliseconds), randomness comes from the Rng given.
#pragma once

#include <cstdint>

#include "sotto/client_lib/client_store.h"
#include "sotto/core/random.h"

namespace sotto::client {

class ReceiptPolicy {
 public:
  // Ids one receipt carries (the body format allows more; 8 keeps receipts like texts).
  static constexpr std::size_t kIdsPerReceipt = 8;
  // The exponential part is capped at this many means (a draw that large has probability
  // e^-40; the cap only keeps the arithmetic bounded).
  static constexpr double kMaxMeans = 40.0;

  ReceiptPolicy(Settings settings, Rng& rng) : settings_(settings), rng_(rng) {}

  bool enabled() const { return settings_.receipts == ReceiptMode::kOn; }
  const Settings& settings() const { return settings_; }
  void Update(const Settings& settings) { settings_ = settings; }

  std::int64_t MinDelayMs() const;
  // When the receipt for a message stored at `now_ms` may leave.
  std::int64_t DueAt(std::int64_t now_ms);
  // Whether a message stored at `now_ms` may join a receipt waiting until `due_ms`.
  bool MayJoin(std::int64_t due_ms, std::int64_t now_ms) const;

 private:
  Settings settings_;
  Rng& rng_;
};

}  // namespace sotto::client
