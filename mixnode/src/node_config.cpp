// Command line and INI parsing for sotto-mixnode and the programs that extend it
// (Boost.Program_options).
#include "node_config.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>

#include "sotto/core/bytes.h"
#include "sotto/core/options.h"

namespace po = boost::program_options;

namespace sotto::mixnode {
namespace {

constexpr const char* kAbout =
    "A Sotto mix node or provider. 'init' creates the node's keys in DIR (mode 0700) and prints\n"
    "the line to add to the directory authority's configuration; 'run' serves the network until\n"
    "SIGTERM or SIGINT; 'status' shows what a node in DIR is doing (from its metrics file). Every "
    "option may also be set in the INI file given with --config\n"
    "(key = value, without the leading dashes); flags override the file.\n";

std::string Usage(const std::string& p) {
  return "usage: " + p + " init --state-dir DIR --name NAME --role mix|provider [--layer N]\n" +
         "       " + p + " run  --config FILE | --state-dir DIR [options]\n" + "       " + p +
         " status --state-dir DIR | --config FILE\n" + "\n" + kAbout;
}

}  // namespace

Result<NodeConfig> ParseNodeConfig(int argc, const char* const* argv, const NodeProgram& program) {
  NodeConfig c;
  std::string role = "mix", config_file, dir_link, dir_verify, state_dir, metrics;
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help and exit")("config", po::value(&config_file),
                                                          "INI file with any of the options below")(
      "state-dir", po::value(&state_dir),
      "directory for keys, the RocksDB store and metrics (created 0700)")(
      "name", po::value(&c.name), "node name: 1-32 of [a-z0-9-] (init)")(
      "role", po::value(&role)->default_value("mix"), "mix | provider")(
      "layer", po::value(&c.layer)->default_value(0),
      "position of a mix in its cascade, 1 = first (providers: 0)")(
      "listen", po::value(&c.listen)->default_value("tcp://127.0.0.1:*"),
      "ZeroMQ endpoint to listen on; port * picks a free port")(
      "advertise", po::value(&c.advertise),
      "endpoint published in the descriptor (default: the bound endpoint)")(
      "directory", po::value(&c.authority.address), "the directory authority's endpoint")(
      "directory-link-key", po::value(&dir_link),
      "the authority's CURVE public key (64 hex digits, printed by 'sotto-directory init')")(
      "directory-verify-key", po::value(&dir_verify),
      "the authority's signing public key (64 hex digits)")(
      "epoch-length-s", po::value(&c.authority.clock.length_s)->default_value(3600),
      "length of an epoch in seconds (from 'sotto-directory init')")(
      "genesis-unix", po::value(&c.authority.clock.genesis_unix)->default_value(0),
      "Unix time at which epoch 0 began (from 'sotto-directory init')")(
      "log-level", po::value(&c.log_level)->default_value("info"),
      "trace | debug | info | warn | error")(
      "metrics-file", po::value(&metrics),
      "Prometheus textfile, rewritten every second (default: STATE_DIR/metrics.prom)")(
      "resend-after-ms", po::value(&c.resend_after_ms)->default_value(3000),
      "resend a forwarded packet the next hop has not acknowledged after this long");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&c.command)->default_value("run"), "");
  po::positional_options_description positional;
  positional.add("command", 1);
  po::options_description own(program.options_heading.empty()
                                  ? std::string("Options of ") + program.name
                                  : program.options_heading);
  for (const auto& o : program.options) {
    own.add_options()(o.name.c_str(), po::value<std::string>()->value_name(o.value_name),
                      o.help.c_str());
  }
  po::options_description file_keys;
  file_keys.add(opts);
  po::options_description all;
  all.add(opts).add(hidden);
  if (!program.options.empty()) {
    all.add(own);
    file_keys.add(own);
  }

  std::ostringstream help;
  help << Usage(program.name) << "\n";
  if (!program.summary.empty()) help << program.summary << "\n\n";
  help << opts;
  if (!program.options.empty()) help << "\n" << own;
  c.help_text = help.str();

  po::variables_map vm;
  if (Status s = ParseOptions(argc, argv, all, positional, file_keys, program.name, vm); !s.ok()) {
    return s;
  }
  for (const auto& o : program.options) {
    if (vm.count(o.name)) c.extra[o.name] = vm[o.name].as<std::string>();
  }
  if (vm.count("help")) {
    c.help = true;
    return c;
  }
  if (c.command != "init" && c.command != "run" && c.command != "status") {
    return Status::InvalidArgument("unknown command '" + c.command +
                                   "': use 'init', 'run' or 'status' (see " + program.name +
                                   " --help)");
  }
  if (state_dir.empty()) return Status::InvalidArgument("--state-dir is required");
  c.state_dir = state_dir;
  c.metrics_file = metrics.empty() ? c.state_dir / "metrics.prom" : std::filesystem::path(metrics);
  auto parsed_role = directory::ParseNodeRole(role);
  if (!parsed_role.ok())
    return Status::InvalidArgument("--role: " + parsed_role.status().message());
  c.role = parsed_role.value();
  if (c.role == directory::NodeRole::kMix && c.command == "init" && c.layer == 0) {
    return Status::InvalidArgument("--layer is required for a mix (1 = first in its cascade)");
  }
  if (c.role == directory::NodeRole::kProvider && c.layer != 0) {
    return Status::InvalidArgument("--layer must be 0 for a provider");
  }
  if (c.command == "run") {
    if (c.authority.address.empty()) return Status::InvalidArgument("--directory is required");
    auto link = FixedFromHex<32>(dir_link);
    if (!link.ok())
      return Status::InvalidArgument("--directory-link-key: " + link.status().message());
    c.authority.link_key = link.value();
    auto verify = FixedFromHex<32>(dir_verify);
    if (!verify.ok()) {
      return Status::InvalidArgument("--directory-verify-key: " + verify.status().message());
    }
    c.authority.verify_key.bytes = verify.value();
  }
  if (c.authority.clock.length_s < 5) {
    return Status::InvalidArgument("--epoch-length-s must be at least 5 seconds");
  }
  if (c.command == "status") return c;
  if (c.name.empty()) return Status::InvalidArgument("--name is required");
  if (c.name.size() > 32 || !std::all_of(c.name.begin(), c.name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
      })) {
    return Status::InvalidArgument("--name '" + c.name +
                                   "': use 1 to 32 characters from a-z, 0-9 and '-'");
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels)) {
    return Status::InvalidArgument("--log-level must be one of trace, debug, info, warn, error");
  }
  return c;
}

}  // namespace sotto::mixnode
