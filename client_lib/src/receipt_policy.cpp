// ReceiptPolicy (receipt_policy.h): the random delay of a delivery receipt.
#include "receipt_policy.h"

#include <algorithm>
#include <cmath>

namespace sotto::client {

std::int64_t ReceiptPolicy::MinDelayMs() const {
  return static_cast<std::int64_t>(settings_.receipt_delay_s) * 500;
}

std::int64_t ReceiptPolicy::DueAt(std::int64_t now_ms) {
  const double half_mean_ms = static_cast<double>(settings_.receipt_delay_s) * 500.0;
  const double x = std::min(-std::log(UniformOpenClosed(rng_)), kMaxMeans) * half_mean_ms;
  return now_ms + MinDelayMs() + static_cast<std::int64_t>(x);
}

bool ReceiptPolicy::MayJoin(std::int64_t due_ms, std::int64_t now_ms) const {
  return due_ms - now_ms >= MinDelayMs();
}

}  // namespace sotto::client
