// libsodium initialisation (once per process).
#include "sotto/core/sodium.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace sotto {

void InitSodiumOrDie() {
  if (sodium_init() < 0) {
    std::fputs("sotto: libsodium could not be initialised (no usable randomness source?)\n",
               stderr);
    std::abort();
  }
}

}  // namespace sotto
