// Invariant checks. A failed SOTTO_CHECK is a bug in Sotto, not bad input: it prints where and
// aborts. Hostile or malformed input must never reach a check — it gets a Status or a drop.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SOTTO_CHECK(cond)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "sotto: invariant violated at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)
