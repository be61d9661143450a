// sotto-mixnode: a Sotto mix node or provider. Thin: everything is in RunNodeMain
// (node_main.cpp): `init` creates keys; `run` serves until SIGTERM/SIGINT; `status` reports.
#include "sotto/mixnode/node_main.h"

int main(int argc, char** argv) { return sotto::mixnode::RunNodeMain(argc, argv); }
