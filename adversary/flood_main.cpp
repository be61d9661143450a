// sotto-flood: the attacker client of the n-1 (flooding) attack (issue 9). A throw-away client
// with a fresh link key — any key may hand packets to a provider today — that sends real Sphinx
// packets through the cascade at a steady rate into its own mailbox, so that a corrupt provider
// at the end of the path recognises every one of them. The harness runs it on its own host
// (adversary/harness/flood.py); the attacker's mailbox id is written to --mailbox-file before the
// first packet, so that corrupt providers can be told whose packets to let through.
//
//   sotto-flood --config client.ini --provider provider-1 --rate 20 --duration-s 600
//               [--to-provider provider-1] [--start-after-s 30] [--mailbox-file F] [--log F]
//
// Bounded: at most --rate × --duration-s packets (rate ≤ 1000/s, duration ≤ 1 day); it stops
// at the end of --duration-s, on SIGTERM/SIGINT, or after 60 s without a single acknowledged
// packet. --log gets one JSON line per packet: {"t": µs since the epoch, "ok": bool}.
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "sotto/client_lib/provider_link.h"
#include "sotto/core/bytes.h"
#include "sotto/core/clock.h"
#include "sotto/core/directory_client.h"
#include "sotto/core/mailbox.h"
#include "sotto/core/options.h"
#include "sotto/core/random.h"
#include "sotto/core/sodium.h"

namespace po = boost::program_options;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sotto::NowUnix;

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const std::string& m) {
  std::cerr << "sotto-flood: " << m << "\n";
  return 1;
}

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const sotto::directory::NodeDescriptor* ProviderNamed(const sotto::directory::Consensus& c,
                                                      const std::string& name) {
  for (const auto* p : c.Providers()) {
    if (p->name == name) return p;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  sotto::InitSodiumOrDie();
  std::string link_hex, verify_hex, entry, exit_provider, mailbox_file, log_file;
  double rate = 0, duration_s = 0, start_after_s = 0;
  sotto::directory::AuthorityInfo authority;
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                 "INI file with any of these options (client.ini)")(
      "directory", po::value(&authority.address), "the directory authority's endpoint")(
      "directory-link-key", po::value(&link_hex), "the authority's CURVE key (hex)")(
      "directory-verify-key", po::value(&verify_hex), "the authority's signing key (hex)")(
      "epoch-length-s", po::value(&authority.clock.length_s)->default_value(3600), "epoch length")(
      "genesis-unix", po::value(&authority.clock.genesis_unix)->default_value(0), "epoch 0 start")(
      "provider", po::value(&entry), "the provider the flood enters (required)")(
      "to-provider", po::value(&exit_provider),
      "the provider holding the attacker's mailbox, where every packet ends (default: --provider)")(
      "rate", po::value(&rate), "packets per second, evenly spaced (0 < rate <= 1000; required)")(
      "duration-s", po::value(&duration_s), "flood for this long (0 < s <= 86400; required)")(
      "start-after-s", po::value(&start_after_s)->default_value(0),
      "wait this long after the mailbox file is written (0 to 86400)")(
      "mailbox-file", po::value(&mailbox_file),
      "write the attacker's mailbox id (64 hex digits) here before flooding")(
      "log", po::value(&log_file), "one JSON line per packet sent: {\"t\": µs, \"ok\": bool}");
  po::positional_options_description pos;
  po::variables_map vm;
  // client.ini carries settings sotto-flood does not use: allow them in the file.
  if (auto s = sotto::ParseOptions(argc, argv, opts, pos, opts, "sotto-flood", vm, true); !s.ok()) {
    return Fail(s.message());
  }
  if (vm.count("help")) {
    std::cout
        << "usage: sotto-flood --config client.ini --provider NAME --rate R --duration-s S\n\n"
           "The attacker client of the n-1 attack: real Sphinx packets through the cascade\n"
           "into its own fresh mailbox, at a steady rate, from a fresh link key.\n\n"
        << opts;
    return 0;
  }
  if (entry.empty()) return Fail("--provider is required (the provider the flood enters)");
  if (!(rate > 0 && rate <= 1000))
    return Fail("--rate must be above 0 and at most 1000 per second");
  if (!(duration_s > 0 && duration_s <= 86400)) {
    return Fail("--duration-s must be above 0 and at most 86400 seconds");
  }
  if (!(start_after_s >= 0 && start_after_s <= 86400)) {
    return Fail("--start-after-s must be between 0 and 86400 seconds");
  }
  if (exit_provider.empty()) exit_provider = entry;
  auto link = sotto::FixedFromHex<32>(link_hex);
  auto verify = sotto::FixedFromHex<32>(verify_hex);
  if (!link.ok() || !verify.ok() || authority.address.empty()) {
    return Fail(
        "--directory, --directory-link-key and --directory-verify-key (64 hex digits) "
        "are required (or --config client.ini)");
  }
  authority.link_key = link.value();
  authority.verify_key.bytes = verify.value();
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  zmq::context_t ctx;
  auto keys = sotto::transport::CurveKeyPair::Generate();
  const sotto::sphinx::MailboxId mailbox = sotto::MailboxForLinkKey(keys.public_key);
  const std::string mailbox_hex = sotto::ToHex(mailbox);
  if (!mailbox_file.empty()) {
    const std::string tmp = mailbox_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << mailbox_hex << "\n";
      if (!out) return Fail("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), mailbox_file.c_str()) != 0) {
      return Fail("cannot rename " + tmp + " to " + mailbox_file);
    }
  }
  std::cout << "attacker mailbox " << mailbox_hex << std::endl;
  for (auto until = Clock::now() + std::chrono::duration<double>(start_after_s);
       Clock::now() < until && !g_stop.load();) {
    std::this_thread::sleep_for(50ms);
  }

  std::optional<sotto::directory::Consensus> consensus;
  sotto::directory::DirectoryClient dir(ctx, keys, authority);
  for (auto until = Clock::now() + 60s; !consensus && Clock::now() < until && !g_stop.load();) {
    auto c = dir.FetchConsensus(authority.clock.EpochAt(NowUnix()), NowUnix(), 2000ms);
    if (c.ok()) {
      consensus = std::move(c.value());
    } else {
      std::cerr << "sotto-flood: waiting for the consensus: " << c.status().message() << "\n";
      std::this_thread::sleep_for(1s);
    }
  }
  if (!consensus) return g_stop.load() ? 0 : Fail("no verified consensus within 60 s");
  const auto* in = ProviderNamed(*consensus, entry);
  const auto* out = ProviderNamed(*consensus, exit_provider);
  if (in == nullptr || out == nullptr) {
    return Fail("provider " + (in == nullptr ? entry : exit_provider) + " is not in the consensus");
  }
  if (consensus->cascades.empty()) return Fail("the consensus has no cascade");
  auto path = sotto::client::BuildPath(*consensus, in->id(), 0, out->id());
  if (!path.ok()) return Fail(path.status().message());

  std::ofstream log;
  if (!log_file.empty()) {
    log.open(log_file, std::ios::app);
    if (!log) return Fail("cannot write " + log_file);
  }
  std::optional<sotto::client::ProviderLink> provider;
  provider.emplace(ctx, keys, *in);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(duration_s);
  const auto limit = static_cast<std::uint64_t>(rate * duration_s) + 1;
  std::uint64_t sent = 0, acked = 0, i = 0;
  auto last_ack = Clock::now();
  sotto::Bytes message(sotto::sphinx::kMaxMessageSize);
  std::cout << "flooding " << in->name << " at " << rate << "/s for " << duration_s
            << " s, every packet into the attacker's mailbox at " << out->name << std::endl;
  for (; i < limit && !g_stop.load(); ++i) {
    const auto due =
        start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    if (g_stop.load()) break;
    sotto::SystemRng().Fill(message);
    auto packet = sotto::sphinx::CreateForwardPacket(path.value(), mailbox, message);
    if (!packet.ok()) return Fail(packet.status().message());
    const std::int64_t t = NowUs();
    const bool ok = provider->SendPacket(packet.value(), 2000ms).ok();
    ++sent;
    if (ok) {
      ++acked;
      last_ack = Clock::now();
    } else {
      // A fresh connection: a late reply must not be taken for the next one's.
      provider.emplace(ctx, keys, *in);
    }
    if (log.is_open()) log << "{\"t\":" << t << ",\"ok\":" << (ok ? "true" : "false") << "}\n";
    if (Clock::now() - last_ack > 60s) {
      log.flush();
      return Fail("no packet acknowledged for 60 s (is " + in->name + " running?)");
    }
  }
  log.flush();
  std::cout << "sent " << sent << " packets, " << acked << " acknowledged" << std::endl;
  return 0;
}
