"""Statistics for scoring, standard library only: entropy, Wilson intervals, the percentile
bootstrap, the area under the ROC curve with DeLong's variance, the Mann–Whitney test, the
two-sample Kolmogorov–Smirnov test, and a two-one-sided-tests equivalence check.

Every interval is two-sided 95% unless stated; every resampling uses a seeded RNG, so the same
input gives the same interval."""
import math
import random

Z95 = 1.959963984540054


def entropy_bits(dist):
    """Shannon entropy in bits of a distribution (an iterable of probabilities summing to 1)."""
    return -sum(p * math.log2(p) for p in dist if p > 0)


def wilson(successes, n, z=Z95):
    """(low, high) Wilson score interval for a binomial rate; (0, 1) for n = 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else float("nan")


def bootstrap_ci(xs, stat=mean, reps=2000, seed=1, level=0.95):
    """Percentile bootstrap interval of stat(xs) (resampling elements of xs)."""
    xs = list(xs)
    if not xs:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    n = len(xs)
    vals = sorted(stat([xs[rng.randrange(n)] for _ in range(n)]) for _ in range(reps))
    lo = vals[int(math.floor((1 - level) / 2 * reps))]
    hi = vals[min(reps - 1, int(math.ceil((1 + level) / 2 * reps)) - 1)]
    return lo, hi


def normal_sf(z):
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def normal_ppf(p):
    """Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1e-9
    after one Newton step)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01]
    c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00]
    lo = 0.02425
    if p < lo:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    elif p <= 1 - lo:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    else:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    return x - e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


def auc(pos, neg):
    """Area under the ROC curve of a score that should be larger for `pos` than for `neg`:
    P(X > Y) + P(X = Y)/2, with DeLong's variance. Returns (auc, (low, high)) with a 95%
    interval (clipped to [0, 1]); (nan, (nan, nan)) if either sample is empty."""
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return float("nan"), (float("nan"), float("nan"))
    # Placement values by sorting: for each x, the share of y below it (ties count half).
    ys = sorted(neg)
    xs = sorted(pos)
    import bisect
    v10 = [(bisect.bisect_left(ys, x) + (bisect.bisect_right(ys, x) - bisect.bisect_left(ys, x))
            / 2) / n for x in pos]
    v01 = [((m - bisect.bisect_right(xs, y)) + (bisect.bisect_right(xs, y) -
                                                 bisect.bisect_left(xs, y)) / 2) / m
           for y in neg]
    a = sum(v10) / m
    s10 = sum((v - a) ** 2 for v in v10) / (m - 1) if m > 1 else 0.0
    s01 = sum((v - a) ** 2 for v in v01) / (n - 1) if n > 1 else 0.0
    se = math.sqrt(s10 / m + s01 / n)
    return a, (max(0.0, a - Z95 * se), min(1.0, a + Z95 * se))


def mann_whitney_p(pos, neg):
    """Two-sided p-value of the Mann–Whitney U test (normal approximation with the tie
    correction), for H0: the two samples come from one distribution."""
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return float("nan")
    allv = sorted([(v, 0) for v in pos] + [(v, 1) for v in neg])
    ranks, i, ties = [0.0] * len(allv), 0, 0.0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1][0] == allv[i][0]:
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = r
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, allv) if g == 0)
    u = r1 - m * (m + 1) / 2
    N = m + n
    var = m * n / 12 * ((N + 1) - ties / (N * (N - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u - m * n / 2) - 0.5) / math.sqrt(var)
    return min(1.0, 2 * normal_sf(max(0.0, z)))


def ks_2samp(a, b):
    """(D, p) of the two-sample Kolmogorov–Smirnov test, asymptotic p-value (Smirnov's series
    with Stephens' small-sample correction)."""
    a, b = sorted(a), sorted(b)
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return float("nan"), float("nan")
    i = j = 0
    d = 0.0
    while i < n and j < m:
        x = min(a[i], b[j])
        while i < n and a[i] == x:
            i += 1
        while j < m and b[j] == x:
            j += 1
        d = max(d, abs(i / n - j / m))
    en = math.sqrt(n * m / (n + m))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 1e-3:
        return d, 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(1.0, max(0.0, p))


def tost_within(xs, target, rel_margin, alpha=0.05, reps=4000, seed=1):
    """Equivalence of mean(xs) and `target` within ±rel_margin·target: two one-sided tests at
    level alpha each, by the percentile bootstrap, i.e. the (1 − 2·alpha) interval of the mean
    lies inside [target·(1 − m), target·(1 + m)]. Returns (equivalent?, (low, high))."""
    lo, hi = bootstrap_ci(xs, reps=reps, seed=seed, level=1 - 2 * alpha)
    band = (target * (1 - rel_margin), target * (1 + rel_margin))
    return band[0] <= lo and hi <= band[1], (lo, hi)
