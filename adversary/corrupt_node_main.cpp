// sotto-corrupt-node: the real sotto-mixnode (same event loop, store and policy) with a tap that
// records what the node sees and can misbehave, for the adversary harness and researchers.
// Thin: every sotto-mixnode option and config key works unchanged (RunNodeMain), plus the
// options of corrupt_node_options.h. See adversary/README.md.
#include "corrupt_node_options.h"
#include "corrupt_node_tap.h"
#include "sotto/mixnode/node_main.h"

int main(int argc, char** argv) {
  sotto::mixnode::NodeProgram program;
  program.name = "sotto-corrupt-node";
  program.summary =
      "sotto-corrupt-node is sotto-mixnode with a recording (JSON Lines, see adversary/README.md)\n"
      "and optional misbehaviour, for measuring what a corrupt node learns. Without a\n"
      "misbehaviour option it behaves exactly like an honest node. FOR TESTS AND RESEARCH ONLY.";
  program.options_heading = "Recording and misbehaviour (run only)";
  program.options = sotto::adversary::CorruptNodeOptionList();
  program.make_tap = sotto::adversary::MakeCorruptNodeTap;
  return sotto::mixnode::RunNodeMain(argc, argv, program);
}
