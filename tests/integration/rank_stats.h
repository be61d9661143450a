// Small, exact-enough statistics for the privacy tests of the mix links (link_ids_test.cpp):
// Spearman rank correlation combined over many small groups, Kolmogorov–Smirnov (one sample
// against U(0,1), two samples) and the two-proportion z-test. Critical values, not p-values:
// each test states its α and compares a statistic with the critical value for that α.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace sotto::testing {

// The ranks (0-based) of `values`, which must be distinct.
template <class T>
std::vector<double> Ranks(const std::vector<T>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t r = 0; r < order.size(); ++r) ranks[order[r]] = static_cast<double>(r);
  return ranks;
}

// Spearman's ρ of two equally long sequences of distinct values (k ≥ 2).
template <class A, class B>
double Spearman(const std::vector<A>& a, const std::vector<B>& b) {
  const auto ra = Ranks(a), rb = Ranks(b);
  const double k = static_cast<double>(a.size());
  double d2 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d2 += (ra[i] - rb[i]) * (ra[i] - rb[i]);
  return 1 - 6 * d2 / (k * (k * k - 1));
}

// Combines per-group Spearman correlations into one z score. Under independence ρ of a group of
// k has mean 0 and variance exactly 1/(k−1), so Z = Σ ρ_g·√(k_g−1) / √G has mean 0 and
// variance 1, and is close to N(0,1) for a few dozen groups. Against a true correlation ρ in
// every group of size k, E[Z] ≈ ρ·√(k−1)·√G.
struct SpearmanGroups {
  double sum = 0;
  std::size_t groups = 0;
  template <class A, class B>
  void Add(const std::vector<A>& a, const std::vector<B>& b) {
    if (a.size() < 2) return;
    sum += Spearman(a, b) * std::sqrt(static_cast<double>(a.size() - 1));
    ++groups;
  }
  double Z() const { return groups == 0 ? 0 : sum / std::sqrt(static_cast<double>(groups)); }
};

// Two-sided critical values of N(0,1): |Z| beyond it has probability α.
inline constexpr double kZCritical1e4 = 3.891;  // α = 1e-4

// The Kolmogorov–Smirnov c(α) = sqrt(−ln(α/2)/2): D·sqrt(n) (one sample) or
// D·sqrt(nm/(n+m)) (two samples) above it rejects at α (asymptotic).
inline double KsC(double alpha) { return std::sqrt(-std::log(alpha / 2) / 2); }

// D of the sample (values in [0, 1)) against the uniform distribution.
inline double KsUniform(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    d = std::max({d, (static_cast<double>(i) + 1) / n - x[i], x[i] - static_cast<double>(i) / n});
  }
  return d;
}

// D between two samples.
inline double KsTwoSample(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::size_t i = 0, j = 0;
  double d = 0;
  while (i < a.size() && j < b.size()) {
    const double v = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= v) ++i;
    while (j < b.size() && b[j] <= v) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / static_cast<double>(a.size()) -
                             static_cast<double>(j) / static_cast<double>(b.size())));
  }
  return d;
}

// z of the two-proportion test (pooled variance): x1 of n1 against x2 of n2.
inline double TwoProportionZ(double x1, double n1, double x2, double n2) {
  const double p = (x1 + x2) / (n1 + n2);
  const double se = std::sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return se == 0 ? 0 : (x1 / n1 - x2 / n2) / se;
}

// A 64-bit id as a number in [0, 1).
inline double Unit(std::uint64_t id) { return static_cast<double>(id >> 11) * 0x1.0p-53; }

}  // namespace sotto::testing
