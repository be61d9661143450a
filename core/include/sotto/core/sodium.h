// Process-wide libsodium initialisation. Every main() calls InitSodiumOrDie() once, before any
// other Sotto call; library code may call it again (it is idempotent and thread-safe).
#pragma once

namespace sotto {

// Initialises libsodium; aborts with a message if the library cannot be initialised (no usable
// randomness source), since nothing in Sotto is safe without it.
void InitSodiumOrDie();

}  // namespace sotto
