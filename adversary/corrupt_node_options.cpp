// Parsing of sotto-corrupt-node's own options.
#include "corrupt_node_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace sotto::adversary {
namespace {

Status Bad(std::string_view flag, std::string_view value, std::string_view allowed) {
  return Status::InvalidArgument(
      fmt::format("--{}: '{}' is not allowed ({})", flag, value, allowed));
}

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Status Probability(const std::map<std::string, std::string>& v, const char* flag, double& out) {
  auto it = v.find(flag);
  if (it == v.end()) return Status::Ok();
  auto p = ParseDouble(it->second);
  if (!p || *p < 0 || *p > 1) return Bad(flag, it->second, "a probability: a number from 0 to 1");
  out = *p;
  return Status::Ok();
}

Status Millis(const std::map<std::string, std::string>& v, const char* flag, std::uint32_t& out) {
  auto it = v.find(flag);
  if (it == v.end()) return Status::Ok();
  auto ms = ParseU64(it->second);
  if (!ms || *ms > 3'600'000)
    return Bad(flag, it->second, "milliseconds: an integer from 0 to 3600000");
  out = static_cast<std::uint32_t>(*ms);
  return Status::Ok();
}

}  // namespace

bool CorruptNodeOptions::Misbehaves() const {
  return withhold_acks > 0 || withhold_window || delay_acks_ms > 0 || drop > 0 || flip_bit > 0 ||
         replay > 0 || !hold_except.empty();
}

std::vector<mixnode::NodeProgramOption> CorruptNodeOptionList() {
  return {
      {"record", "FILE", "JSON Lines file the recording is appended to (required for 'run')"},
      {"seed", "N", "seed of every random decision (default: random, written to the recording)"},
      {"withhold-acks", "P",
       "never acknowledge a fraction P of received packets, decided per previous hop and link "
       "id (so resends stay unacknowledged too)"},
      {"withhold-acks-window", "START_S:LEN_S",
       "withhold every acknowledgement from START_S to START_S+LEN_S seconds after start"},
      {"withhold-from", "all|clients|nodes",
       "whose packets --withhold-acks and --withhold-acks-window apply to (default all)"},
      {"delay-acks-ms", "MS", "send every acknowledgement MS milliseconds late"},
      {"drop", "P", "silently drop a fraction P of packets after acknowledging them"},
      {"flip-bit", "P", "flip one random bit of a fraction P of the packets sent on"},
      {"flip-bit-in", "payload|header",
       "where --flip-bit flips: the Sphinx payload (default; the final hop drops the packet as "
       "payload_corrupt) or the header (the next hop drops it as bad_mac)"},
      {"replay", "P", "send a fraction P of the packets sent on twice (the copy later)"},
      {"replay-after-ms", "MS", "how much later the --replay copy is sent (default 1000)"},
      {"hold-except-client", "HEX[,HEX...]",
       "providers (n-1 attack): hold every client packet except those of the clients whose "
       "mailbox id starts with one of these hex prefixes"},
      {"hold-release-s", "S",
       "hand the held packets to the mixing policy every S seconds (default 10)"},
  };
}

Result<CorruptNodeOptions> ParseCorruptNodeOptions(const std::map<std::string, std::string>& v) {
  CorruptNodeOptions o;
  auto it = v.find("record");
  if (it == v.end() || it->second.empty()) {
    return Status::InvalidArgument(
        "--record FILE is required: the JSON Lines file the recording is appended to");
  }
  o.record = it->second;
  if (auto s = v.find("seed"); s != v.end()) {
    auto n = ParseU64(s->second);
    if (!n) return Bad("seed", s->second, "an integer from 0 to 18446744073709551615");
    o.seed = *n;
    o.seed_given = true;
  }
  for (auto [flag, field] :
       {std::pair{"withhold-acks", &o.withhold_acks}, std::pair{"drop", &o.drop},
        std::pair{"flip-bit", &o.flip_bit}, std::pair{"replay", &o.replay}}) {
    if (Status s = Probability(v, flag, *field); !s.ok()) return s;
  }
  if (auto w = v.find("withhold-acks-window"); w != v.end()) {
    const auto colon = w->second.find(':');
    std::optional<double> start, length;
    if (colon != std::string::npos) {
      start = ParseDouble(std::string_view(w->second).substr(0, colon));
      length = ParseDouble(std::string_view(w->second).substr(colon + 1));
    }
    if (!start || !length || *start < 0 || *length <= 0) {
      return Bad("withhold-acks-window", w->second,
                 "START_S:LEN_S, seconds after start, START_S >= 0 and LEN_S > 0, e.g. 10:5");
    }
    o.withhold_window = CorruptNodeOptions::Window{*start, *length};
  }
  if (auto f = v.find("withhold-from"); f != v.end()) {
    if (f->second == "all") {
      o.withhold_from = CorruptNodeOptions::WithholdFrom::kAll;
    } else if (f->second == "clients") {
      o.withhold_from = CorruptNodeOptions::WithholdFrom::kClients;
    } else if (f->second == "nodes") {
      o.withhold_from = CorruptNodeOptions::WithholdFrom::kNodes;
    } else {
      return Bad("withhold-from", f->second, "use 'all', 'clients' or 'nodes'");
    }
  }
  if (Status s = Millis(v, "delay-acks-ms", o.delay_acks_ms); !s.ok()) return s;
  if (Status s = Millis(v, "replay-after-ms", o.replay_after_ms); !s.ok()) return s;
  if (auto f = v.find("flip-bit-in"); f != v.end()) {
    if (f->second == "payload") {
      o.flip_in = CorruptNodeOptions::FlipIn::kPayload;
    } else if (f->second == "header") {
      o.flip_in = CorruptNodeOptions::FlipIn::kHeader;
    } else {
      return Bad("flip-bit-in", f->second, "use 'payload' or 'header'");
    }
  }
  if (auto h = v.find("hold-except-client"); h != v.end()) {
    std::string_view rest = h->second;
    while (true) {
      const auto comma = rest.find(',');
      std::string prefix(rest.substr(0, comma));
      std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (prefix.empty() || prefix.size() > 16 ||
          !std::all_of(prefix.begin(), prefix.end(),
                       [](unsigned char c) { return std::isxdigit(c) != 0; })) {
        return Bad("hold-except-client", h->second,
                   "comma-separated hex prefixes of mailbox ids, 1 to 16 hex digits each");
      }
      o.hold_except.push_back(prefix);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (auto r = v.find("hold-release-s"); r != v.end()) {
    auto s = ParseDouble(r->second);
    if (!s || *s <= 0 || *s > 86400) {
      return Bad("hold-release-s", r->second, "seconds: a number above 0 and at most 86400");
    }
    o.hold_release_s = *s;
  }
  return o;
}

}  // namespace sotto::adversary
