// What sotto-sim's commands share (cli.h): errors, option parsing, output files, the progress bar.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "cli.h"

namespace po = boost::program_options;

namespace sotto::sim::cli {

int Fail(std::string_view message, int code) {
  std::string line(message);
  std::replace(line.begin(), line.end(), '\n', ' ');  // always one line
  std::fprintf(stderr, "sotto-sim: error: %s\n", line.c_str());
  return code;
}

Status SplitKeyValue(std::string_view option, std::string_view text, std::string& key,
                     std::string& value) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::InvalidArgument(fmt::format("{} '{}': expected KEY=VALUE", option, text));
  }
  key = std::string(text.substr(0, eq));
  value = std::string(text.substr(eq + 1));
  return Status::Ok();
}

Result<std::uint64_t> ParseWhole(std::string_view option, std::string_view text, std::uint64_t lo,
                                 std::uint64_t hi) {
  std::uint64_t x = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || x < lo || x > hi) {
    return Status::InvalidArgument(fmt::format(
        "{} '{}' is not allowed: it must be a whole number in [{}, {}]", option, text, lo, hi));
  }
  return x;
}

Status ParseCommon(int argc, char** argv, int first, std::string_view command,
                   const CommonOptions& which, CommonArgs& args, std::string& help) {
  std::string seed, repetitions, jobs, repetition;
  po::options_description opts("Options");
  opts.add_options()("help,h", po::bool_switch(&args.help), "show this help and exit");
  if (which.seed) {
    opts.add_options()("seed", po::value(&seed)->value_name("N"),
                       "master seed, a whole number (overrides the scenario's / the default)");
  }
  if (which.set) {
    opts.add_options()("set", po::value(&args.sets)->composing()->value_name("KEY=VALUE"),
                       "set a key (repeatable)");
  }
  if (which.param) {
    opts.add_options()("param", po::value(&args.params)->composing()->value_name("FIELD=VALUE"),
                       "set a field of the attack (repeatable)");
  }
  if (which.vary) {
    opts.add_options()("vary", po::value(&args.varies)->composing()->value_name("KEY=V1,V2,..."),
                       "sweep a key over these values (repeatable: the cartesian product)");
  }
  if (which.repetitions) {
    opts.add_options()("repetitions", po::value(&repetitions)->value_name("R"),
                       "independent runs per point");
  }
  if (which.repetition) {
    opts.add_options()("repetition", po::value(&repetition)->value_name("R"),
                       "which repetition of the scenario (default 0: the first `run` runs)");
  }
  if (which.jobs) {
    opts.add_options()("jobs,j", po::value(&jobs)->value_name("J"),
                       "threads (default: the number of cores); results do not depend on it");
  }
  if (which.out) {
    opts.add_options()("out", po::value(&args.out)->value_name("FILE.csv"), "write CSV rows here");
  }
  if (which.summary) {
    opts.add_options()("summary", po::value(&args.summary)->value_name("FILE.csv"),
                       "write the per-point summary here (default: OUT.summary.csv)");
  }
  if (which.messages) {
    opts.add_options()("messages", po::value(&args.messages)->value_name("FILE.jsonl"),
                       "write every measured message as a JSON line");
  }
  if (which.progress) {
    opts.add_options()("progress", po::bool_switch(&args.progress),
                       "show a progress bar on stderr (default: only if stderr is a terminal)");
  }
  po::options_description hidden;
  hidden.add_options()("args", po::value(&args.positional));
  po::positional_options_description positional;
  positional.add("args", -1);
  po::options_description all;
  all.add(opts).add(hidden);
  std::ostringstream text;
  text << opts;
  help = text.str();

  std::vector<std::string> tokens(argv + first, argv + argc);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(tokens).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::InvalidArgument(fmt::format("{} (see sotto-sim {} --help)", e.what(), command));
  }
  if (!seed.empty()) {
    auto s = ParseWhole("--seed", seed, 0, std::numeric_limits<std::uint64_t>::max());
    if (!s.ok()) return s.status();
    args.seed = *s;
  }
  if (!repetitions.empty()) {
    auto r = ParseWhole("--repetitions", repetitions, 1, which.max_repetitions);
    if (!r.ok()) return r.status();
    args.repetitions = *r;
  }
  if (!repetition.empty()) {
    auto r = ParseWhole("--repetition", repetition, 0, 99'999);
    if (!r.ok()) return r.status();
    args.repetition = *r;
  }
  if (!jobs.empty()) {
    auto j = ParseWhole("--jobs", jobs, 1, 1024);
    if (!j.ok()) return j.status();
    args.jobs = *j;
  }
  return Status::Ok();
}

Status OpenOutput(const std::string& path, std::ofstream& out) {
  out.open(path, std::ios::trunc);
  if (!out) {
    return Status::IoError(
        fmt::format("cannot write {}: check that its directory exists and is writable", path));
  }
  return Status::Ok();
}

std::string SummaryPathFor(const std::string& out) {
  constexpr std::string_view kCsv = ".csv";
  if (out.size() > kCsv.size() && out.ends_with(kCsv)) {
    return out.substr(0, out.size() - kCsv.size()) + ".summary.csv";
  }
  return out + ".summary.csv";
}

bool ShowProgress(bool flag) { return flag || isatty(STDERR_FILENO) == 1; }

namespace {

std::string Clock(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

ProgressBar::ProgressBar(bool enabled, std::string_view unit) : enabled_(enabled), unit_(unit) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(const SweepProgress& p) {
  if (!enabled_ || p.runs_total == 0) return;
  constexpr int kWidth = 30;
  const double fraction = std::clamp(p.runs_done / static_cast<double>(p.runs_total), 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string eta = "ETA --:--";
  if (p.runs_done > 0 && p.elapsed_s > 0.5) {
    eta = "ETA " +
          Clock(p.elapsed_s * (static_cast<double>(p.runs_total) - p.runs_done) / p.runs_done);
  }
  std::fprintf(stderr, "\r[%s%s] %llu/%llu %s %3.0f%%  %s elapsed  %s   ",
               std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(kWidth - filled), '-').c_str(),
               static_cast<unsigned long long>(std::floor(p.runs_done)),
               static_cast<unsigned long long>(p.runs_total), unit_.c_str(), 100 * fraction,
               Clock(p.elapsed_s).c_str(), eta.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressBar::Finish() {
  if (!shown_) return;
  std::fprintf(stderr, "\r%100s\r", "");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace sotto::sim::cli
