// Catch2 entry point: initialises libsodium once before any test runs.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sotto/core/sodium.h"

int main(int argc, char* argv[]) {
  sotto::InitSodiumOrDie();
  return Catch::Session().run(argc, argv);
}
