// Summary statistics for the attacks: means with Student-t confidence intervals, binomials.
#include "attack_stats.h"

#include <array>
#include <cmath>

namespace sotto::sim::attacks {

double StudentT975(std::size_t df) {
  static constexpr std::array<double, 30> kTable = {
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
      2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
      2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return 0;
  if (df <= kTable.size()) return kTable[df - 1];
  // Cornish–Fisher: t ≈ z + (z³ + z) / (4 df).
  constexpr double kZ = 1.959964;
  return kZ + (kZ * kZ * kZ + kZ) / (4.0 * static_cast<double>(df));
}

MeanCi MeanWithCi(const std::vector<double>& values) {
  MeanCi out;
  out.n = values.size();
  if (values.empty()) return out;
  double sum = 0;
  for (const double v : values) sum += v;
  const auto n = static_cast<double>(values.size());
  out.mean = sum / n;
  if (values.size() < 2) return out;
  double squares = 0;
  for (const double v : values) squares += (v - out.mean) * (v - out.mean);
  const double stddev = std::sqrt(squares / (n - 1));
  out.half_width = StudentT975(values.size() - 1) * stddev / std::sqrt(n);
  return out;
}

double LogBinomial(std::size_t n, std::size_t k) {
  const auto dn = static_cast<double>(n);
  const auto dk = static_cast<double>(k);
  return std::lgamma(dn + 1) - std::lgamma(dk + 1) - std::lgamma(dn - dk + 1);
}

}  // namespace sotto::sim::attacks
