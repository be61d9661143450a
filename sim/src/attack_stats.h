// Internal to the attacks: summary statistics shared by attack_*.cpp.
#pragma once

#include <cstddef>
#include <vector>

#include "sotto/sim/attacks.h"

namespace sotto::sim::attacks {

// Mean of `values` with the half-width of its 95% confidence interval, t(0.975, n-1) · s / √n.
MeanCi MeanWithCi(const std::vector<double>& values);

// The 97.5% point of Student's t distribution with `df` ≥ 1 degrees of freedom (exact table to
// 30, then the normal value with a 1/df correction, within 0.1%).
double StudentT975(std::size_t df);

// log C(n, k), via lgamma.
double LogBinomial(std::size_t n, std::size_t k);

}  // namespace sotto::sim::attacks
