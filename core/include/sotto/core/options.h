// Command line + INI file parsing shared by Sotto's programs (Boost.Program_options): the flags
// are read first, then the file named by --config for anything the flags left unset (so flags
// win). Header-only; a program including it links Boost::program_options. Never throws: a bad
// option, an unreadable file or a malformed line becomes an InvalidArgument naming it.
#pragma once

#include <boost/program_options.hpp>
#include <fstream>
#include <string>
#include <string_view>

#include "sotto/core/status.h"

namespace sotto {

inline Status ParseOptions(int argc, const char* const* argv,
                           const boost::program_options::options_description& cli,
                           const boost::program_options::positional_options_description& positional,
                           const boost::program_options::options_description& file_options,
                           std::string_view program, boost::program_options::variables_map& vm,
                           bool allow_unknown_file_keys = false) {
  namespace po = boost::program_options;
  try {
    po::store(po::command_line_parser(argc, argv).options(cli).positional(positional).run(), vm);
    if (vm.count("config")) {
      const auto path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) return Status::InvalidArgument("cannot read config file " + path);
      po::store(po::parse_config_file(in, file_options, allow_unknown_file_keys), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::InvalidArgument(std::string(e.what()) + " (see " + std::string(program) +
                                   " --help)");
  }
  return Status::Ok();
}

}  // namespace sotto
