// Command line and INI parsing for sotto-directory.
#include "authority_config.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>
#include <vector>

#include "sotto/core/bytes.h"
#include "sotto/core/options.h"

namespace po = boost::program_options;

namespace sotto::authority {

Result<AuthorityConfig> ParseAuthorityConfig(int argc, const char* const* argv) {
  AuthorityConfig c;
  std::string config_file, state_dir;
  std::vector<std::string> nodes;
  auto& p = c.params;
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help and exit")("config", po::value(&config_file),
                                                          "INI file with any of the options below")(
      "state-dir", po::value(&state_dir),
      "directory for keys, descriptors and consensus documents")(
      "listen", po::value(&c.listen)->default_value("tcp://127.0.0.1:7000"), "ZeroMQ endpoint")(
      "epoch-length-s", po::value(&c.clock.length_s)->default_value(3600), "epoch length, seconds")(
      "genesis-unix", po::value(&c.clock.genesis_unix)->default_value(0),
      "Unix time of epoch 0 (init: default now)")(
      "node", po::value(&nodes)->composing(),
      "an approved node, NAME:IDENTITY-KEY-HEX (repeat; printed by 'sotto-mixnode init')")(
      "cascade-length", po::value(&c.cascade_length)->default_value(3), "mixes per cascade")(
      "publish-wait-s", po::value(&c.publish_wait_s)->default_value(3),
      "publish an epoch's consensus this long after it starts even if some nodes are missing")(
      "mixing-policy", po::value(&p.mixing_policy)->default_value("threshold-timeout"),
      "threshold-timeout | timed | pool | continuous")(
      "batch-size", po::value(&p.batch_size)->default_value(16), "threshold n")(
      "batch-timeout-ms", po::value(&p.batch_timeout_ms)->default_value(1000),
      "threshold-timeout t, or the timed/pool period")(
      "pool-keep-percent", po::value(&p.pool_keep_percent)->default_value(0), "pool policy")(
      "mean-delay-ms", po::value(&p.mean_delay_ms)->default_value(200), "continuous policy")(
      "min-batch", po::value(&p.min_batch)->default_value(4),
      "pad batches with dummies to this size")("cover-drop-per-min",
                                               po::value(&p.cover_drop_per_min)->default_value(60),
                                               "client drop cover")(
      "cover-loop-per-min", po::value(&p.cover_loop_per_min)->default_value(30),
      "client loop cover")("send-rate-per-min", po::value(&p.send_rate_per_min)->default_value(60),
                           "client packet rate")(
      "fetch-interval-ms", po::value(&p.fetch_interval_ms)->default_value(2000), "client fetches")(
      "mail-retention-s", po::value(&p.mail_retention_s)->default_value(7 * 24 * 3600),
      "providers keep unfetched mail this long")(
      "log-level", po::value(&c.log_level)->default_value("info"), "trace|debug|info|warn|error");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&c.command)->default_value("run"), "");
  po::positional_options_description positional;
  positional.add("command", 1);
  po::options_description all;
  all.add(opts).add(hidden);
  std::ostringstream help;
  help << "usage: sotto-directory init --state-dir DIR [--epoch-length-s N]\n"
          "       sotto-directory run  --config FILE | --state-dir DIR --node NAME:KEY ... "
          "[options]\n"
          "\nThe Sotto directory authority: accepts signed descriptors from approved nodes and\n"
          "publishes a signed consensus for every epoch. 'init' creates the authority's keys and\n"
          "prints what nodes and clients must be configured with.\n\n"
       << opts;
  c.help_text = help.str();
  po::variables_map vm;
  if (Status s = ParseOptions(argc, argv, all, positional, opts, "sotto-directory", vm); !s.ok()) {
    return s;
  }
  if (vm.count("help")) {
    c.help = true;
    return c;
  }
  if (c.command != "init" && c.command != "run") {
    return Status::InvalidArgument("unknown command '" + c.command + "': use 'init' or 'run'");
  }
  if (state_dir.empty()) return Status::InvalidArgument("--state-dir is required");
  c.state_dir = state_dir;
  if (c.clock.length_s < 5) return Status::InvalidArgument("--epoch-length-s must be at least 5");
  if (c.cascade_length < 1 || c.cascade_length + 2 > sphinx::kMaxHops) {
    return Status::InvalidArgument("--cascade-length must be 1 to " +
                                   std::to_string(sphinx::kMaxHops - 2) +
                                   " (two provider hops are added to every path)");
  }
  for (const auto& n : nodes) {
    const auto colon = n.find(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("--node '" + n + "': expected NAME:IDENTITY-KEY-HEX");
    }
    auto key = FixedFromHex<32>(n.substr(colon + 1));
    if (!key.ok())
      return Status::InvalidArgument("--node " + n.substr(0, colon) + ": " +
                                     key.status().message());
    c.nodes[n.substr(0, colon)] = VerifyKey{key.value()};
  }
  if (c.command == "run" && c.nodes.empty()) {
    return Status::InvalidArgument(
        "no --node given: list the approved nodes (NAME:IDENTITY-KEY-HEX)");
  }
  return c;
}

}  // namespace sotto::authority
