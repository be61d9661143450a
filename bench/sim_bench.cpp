// sotto-bench-sim: how fast sotto-sim's engine runs (issue 5: ≥ 2 million packet events/s on one
// core; a cascade of 10,000 clients × 10 simulated minutes at 1 packet/s each in under 60 s).
// An event is a packet arriving at or leaving a node, counted by the engine (Results::events).
// Prints, in this order:
//   1. events/s on one core for Sotto's default cascade (sim/scenarios/sotto-default.ini, run
//      for 300 s), threshold-timeout and continuous mixes, entropy tracking on and off;
//   2. the headline scenario of the issue, wall time and events/s;
//   3. growth in clients and in simulated duration, with the least-squares log-log exponent
//      (plus growth in clients for continuous mixes with entropy on, the one quadratic case);
//   4. four repetitions on one thread and on two (RunScenario is re-entrant), the speed-up,
//      whether both give the same results, and the machine's own speed-up on a control loop;
//   5. the engine's cost per event against the raw primitives measured in the same process: one
//      MixingPolicy Add+Release cycle per packet and one binary-heap push+pop.
// Wall times are measured around the whole RunScenario call (set-up of nodes and clients
// included). Every loop is bounded in count; the whole program takes well under two minutes on a
// 2-core machine. Usage: sotto-bench-sim [--help]
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sotto/mixnode/policy.h"
#include "sotto/sim/results.h"
#include "sotto/sim/rng.h"
#include "sotto/sim/scenario.h"
#include "sotto/sim/simulator.h"

namespace sim = sotto::sim;
namespace mx = sotto::mixnode;
using Clock = std::chrono::steady_clock;

namespace {

// A copy of sim/scenarios/sotto-default.ini (the bench must not depend on the working
// directory): one cascade of 3 threshold-timeout mixes, n = 16, t = 1 s, padded to 4, mixing
// providers, 10 ms links, payload/loop/drop cover 1, 0.5 and 1 per second, 5 friends per user.
constexpr std::string_view kSottoDefaultIni = R"(seed = 1
duration_s = 600
burn_in_s = 60
clients = 1000
providers = 2
topology = cascade
layers = 3
policy = threshold-timeout
batch_size = 16
timeout_ms = 1000
min_batch = 4
provider_policy = same
link_latency_ms = 10
real_rate_per_s = 0.05
payload_rate_per_s = 1
loop_rate_per_s = 0.5
drop_rate_per_s = 1
social_graph = friends
friends = 5
track_entropy = true
)";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Fail(const std::string& what) {
  fmt::print(stderr, "sotto-bench-sim: {}\n", what);
  std::exit(1);
}

void Flush() { std::fflush(stdout); }

struct Timed {
  sim::Results results;
  double wall_s = 0;  // around RunScenario, set-up included
  double EventsPerS() const { return static_cast<double>(results.events) / wall_s; }
};

Timed Run(const sim::Scenario& s, std::uint64_t repetition = 0) {
  sim::RunOptions options;
  options.repetition = repetition;
  const auto t0 = Clock::now();
  auto r = sim::RunScenario(s, options);
  const double wall = Seconds(Clock::now() - t0);
  if (!r.ok()) Fail(fmt::format("{}: {}", s.Describe(), r.status().ToString()));
  return Timed{std::move(r).value(), wall};
}

sim::Scenario SottoDefault() {
  auto s = sim::ParseScenario(kSottoDefaultIni, "sotto-default.ini");
  if (!s.ok()) Fail(s.status().ToString());
  return std::move(s).value();
}

// The issue's headline: a cascade of 3 threshold-timeout mixes (n = 100, t = 1 s), pass-through
// providers, 10,000 clients sending 1 packet/s each (the payload stream; real messages 0.5/s,
// the rest drop cover), 600 s simulated (+ the drain until the last measured message arrives).
sim::Scenario Headline(bool track_entropy) {
  sim::Scenario s;
  s.clients = 10000;
  s.duration_s = 600;
  s.burn_in_s = 60;
  s.payload_rate_per_s = 1;
  s.real_rate_per_s = 0.5;
  s.track_entropy = track_entropy;
  return s;
}

// Least-squares slope of log(y) against log(x).
double LogLogSlope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += std::log(x[i]);
    my += std::log(y[i]);
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(y.size());
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return sxy / sxx;
}

std::atomic<std::uint64_t> g_sink{0};  // keeps the micro-loops' results alive (they run on threads)

// One threshold-timeout (n = 100) round after another: 100 Adds, then the Release the last Add
// made due. Returns ns per packet (one Add + its share of one Release).
double ThresholdCycleNs(std::size_t rounds) {
  mx::PolicyConfig c;
  c.threshold = 100;
  sim::SimRng rng(7);
  auto policy = mx::MakePolicy(c, rng);
  mx::PacketHandle next = 0;
  mx::TimeUs now = 0;
  std::uint64_t sink = 0;
  const auto t0 = Clock::now();
  for (std::size_t r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < c.threshold; ++i) policy->Add(next++, now);
    for (auto h : policy->Release(now)) sink += h;
    now += 1000;
  }
  const double ns = Seconds(Clock::now() - t0) * 1e9 / static_cast<double>(rounds * c.threshold);
  g_sink.fetch_add(sink, std::memory_order_relaxed);
  return ns;
}

// A continuous-time mix (mean delay 1 s) in steady state: one Add every 400 µs (2,500 packets/s,
// as in sotto-default), each followed by a Release of whatever is due. Returns ns per packet.
double ContinuousCycleNs(std::size_t packets) {
  mx::PolicyConfig c;
  c.kind = mx::PolicyKind::kContinuous;
  sim::SimRng rng(7);
  auto policy = mx::MakePolicy(c, rng);
  mx::TimeUs now = 0;
  std::uint64_t sink = 0;
  for (mx::PacketHandle h = 0; h < 5000; ++h, now += 400) {  // warm up: fill to steady state
    policy->Add(h, now);
    for (auto x : policy->Release(now)) sink += x;
  }
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < packets; ++i, now += 400) {
    policy->Add(i, now);
    if (const auto w = policy->NextWakeup(); w && *w <= now) {
      for (auto x : policy->Release(now)) sink += x;
    }
  }
  const double ns = Seconds(Clock::now() - t0) * 1e9 / static_cast<double>(packets);
  g_sink.fetch_add(sink, std::memory_order_relaxed);
  return ns;
}

// One pop of the earliest event and one push of a later one, on a binary heap of `size` 24-byte
// events ordered by (time, sequence number), as the engine's (sim/src/engine.h). ns per pair.
double HeapPushPopNs(std::size_t size, std::size_t pairs) {
  struct Event {
    std::int64_t time;
    std::uint64_t order;
    std::uint32_t a, b;
  };
  const auto later = [](const Event& x, const Event& y) {
    return x.time != y.time ? x.time > y.time : x.order > y.order;
  };
  sim::SimRng rng(11);
  std::vector<Event> heap;
  heap.reserve(size + 1);
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < size; ++i) {
    heap.push_back(Event{rng.ExponentialUs(1e6), seq++ << 8, 0, 0});
    std::push_heap(heap.begin(), heap.end(), later);
  }
  std::vector<std::int64_t> offsets(1 << 16);  // drawn beforehand: the loop times the heap only
  for (auto& o : offsets) o = rng.ExponentialUs(1e6);
  std::uint64_t sink = 0;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < pairs; ++i) {
    const Event e = heap.front();
    std::pop_heap(heap.begin(), heap.end(), later);
    heap.pop_back();
    sink += e.a;
    heap.push_back(Event{e.time + offsets[i & 0xffff], seq++ << 8, e.b, e.a + 1});
    std::push_heap(heap.begin(), heap.end(), later);
  }
  const double ns = Seconds(Clock::now() - t0) * 1e9 / static_cast<double>(pairs);
  g_sink.fetch_add(sink, std::memory_order_relaxed);
  return ns;
}

// The first three fields of /proc/loadavg (other work on the machine skews the figures).
std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "unknown";
  double a = 0, b = 0, c = 0;
  const int n = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
  std::fclose(f);
  return n == 3 ? fmt::format("{:.2f} {:.2f} {:.2f}", a, b, c) : "unknown";
}

void Section(std::string_view title) {
  fmt::print("\n{}\n", title);
  Flush();
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      fmt::print("usage: sotto-bench-sim (no options; prints sotto-sim's speed figures)\n");
      return 0;
    }
    fmt::print(stderr, "sotto-bench-sim: unknown argument '{}' (try --help)\n", a);
    return 2;
  }
  const auto program_start = Clock::now();
  fmt::print(
      "sotto-bench-sim: sotto-sim engine speed (event = a packet arriving at or leaving a "
      "node); {} hardware threads, load average {}\n",
      std::thread::hardware_concurrency(), LoadAverage());

  // 1. Sotto's default cascade, both policies, entropy on and off (300 s instead of 600 s: the
  //    continuous mixes with entropy on are slow, and events/s does not depend on the length).
  Section(
      "1. Sotto's default cascade (sim/scenarios/sotto-default.ini, duration_s = 300), one core");
  fmt::print("   {:<48} {:>6} {:>10} {:>7} {:>7}\n", "mixes, entropy tracking", "sim s", "events",
             "wall s", "M ev/s");
  Timed default_continuous_off;
  for (const auto policy : {mx::PolicyKind::kThresholdTimeout, mx::PolicyKind::kContinuous}) {
    for (const bool entropy : {false, true}) {
      sim::Scenario s = SottoDefault();
      s.duration_s = 300;
      s.policy = policy;
      s.track_entropy = entropy;
      const Timed t = Run(s);
      if (policy == mx::PolicyKind::kContinuous && !entropy) default_continuous_off = t;
      fmt::print("   {:<48} {:>6.0f} {:>10} {:>7.2f} {:>7.2f}\n",
                 fmt::format("{}, {}", s.MixPolicy().Describe(), entropy ? "on" : "off"),
                 t.results.simulated_s, t.results.events, t.wall_s, t.EventsPerS() / 1e6);
      Flush();
    }
  }

  // 2. The headline.
  Section(
      "2. Headline: cascade of 3 threshold-timeout mixes (n=100, t=1s), 10,000 clients × 600 s "
      "at 1 packet/s");
  Timed headline_off;
  for (const bool entropy : {false, true}) {
    const Timed t = Run(Headline(entropy));
    if (!entropy) headline_off = t;
    fmt::print(
        "   entropy {:<3}: {} events ({} scheduled), {:.0f} s simulated, wall {:.2f} s (goal < 60 "
        "s: {}), {:.2f} M events/s (goal ≥ 2: {})\n",
        entropy ? "on" : "off", t.results.events, t.results.scheduled_events, t.results.simulated_s,
        t.wall_s, t.wall_s < 60 ? "met" : "NOT met", t.EventsPerS() / 1e6,
        t.EventsPerS() >= 2e6 ? "met" : "NOT met");
    if (entropy) {
      fmt::print("                 mean sender entropy {:.3f} bits over {} real packets\n",
                 t.results.entropy.mean, t.results.entropy.packets);
    }
    Flush();
  }

  // 3. Growth: clients at a fixed duration, duration at fixed clients (the headline's traffic).
  Section("3. Growth (headline traffic; burn-in = duration/10)");
  for (const bool entropy : {false, true}) {
    std::vector<double> x, y;
    fmt::print("   entropy {}, duration 120 s:\n", entropy ? "on" : "off");
    for (const std::uint32_t clients : {1000u, 2000u, 4000u, 8000u}) {
      sim::Scenario s = Headline(entropy);
      s.clients = clients;
      s.duration_s = 120;
      s.burn_in_s = 12;
      const Timed t = Run(s);
      x.push_back(clients);
      y.push_back(t.wall_s);
      fmt::print("     clients {:>5}: {:>7.3f} s, {:>10} events, time/clients {:.2f} µs\n", clients,
                 t.wall_s, t.results.events, t.wall_s / clients * 1e6);
      Flush();
    }
    fmt::print("     exponent (log-log slope of time on clients): {:.3f}\n", LogLogSlope(x, y));
    x.clear();
    y.clear();
    fmt::print("   entropy {}, 2,000 clients:\n", entropy ? "on" : "off");
    for (const double duration : {60.0, 120.0, 240.0, 480.0}) {
      sim::Scenario s = Headline(entropy);
      s.clients = 2000;
      s.duration_s = duration;
      s.burn_in_s = duration / 10;
      const Timed t = Run(s);
      x.push_back(duration);
      y.push_back(t.wall_s);
      fmt::print("     duration {:>4.0f} s: {:>7.3f} s, {:>10} events, time/duration {:.2f} ms/s\n",
                 duration, t.wall_s, t.results.events, t.wall_s / duration * 1e3);
      Flush();
    }
    fmt::print("     exponent (log-log slope of time on duration): {:.3f}\n", LogLogSlope(x, y));
  }
  {
    // The one case that is not linear: an honest continuous mix gives every departing packet a
    // fresh mixture over all senders it has seen (O(clients) per departure, see
    // sim/src/continuous_mixture.h), so the time per event grows with the clients.
    std::vector<double> x, y;
    fmt::print("   continuous mixes (mean 1 s), entropy on, duration 60 s:\n");
    for (const std::uint32_t clients : {250u, 500u, 1000u, 2000u}) {
      sim::Scenario s = Headline(true);
      s.policy = mx::PolicyKind::kContinuous;
      s.clients = clients;
      s.duration_s = 60;
      s.burn_in_s = 6;
      const Timed t = Run(s);
      x.push_back(clients);
      y.push_back(t.wall_s);
      fmt::print("     clients {:>5}: {:>7.3f} s, {:>10} events, {:.2f} M events/s\n", clients,
                 t.wall_s, t.results.events, t.EventsPerS() / 1e6);
      Flush();
    }
    fmt::print("     exponent (log-log slope of time on clients): {:.3f}\n", LogLogSlope(x, y));
  }

  // 4. Both cores: 4 repetitions, each its own RunScenario, on 1 thread and on 2.
  Section("4. 4 repetitions of the headline scenario (entropy off), 1 thread vs 2 threads");
  {
    constexpr std::size_t kReps = 4;
    const sim::Scenario s = Headline(false);
    const auto run_reps = [&](unsigned threads) {
      std::vector<sim::Results> out(kReps);
      std::vector<std::thread> pool;
      for (unsigned w = 0; w < threads; ++w) {
        pool.emplace_back([&, w] {
          for (std::size_t r = w; r < kReps; r += threads) out[r] = Run(s, r).results;
        });
      }
      for (auto& th : pool) th.join();
      return out;
    };
    auto t0 = Clock::now();
    const auto one = run_reps(1);
    const double one_s = Seconds(Clock::now() - t0);
    t0 = Clock::now();
    const auto two = run_reps(2);
    const double two_s = Seconds(Clock::now() - t0);
    bool same = true;
    std::uint64_t events = 0;
    for (std::size_t r = 0; r < kReps; ++r) {
      same = same && sim::ResultsCsvRow(one[r]) == sim::ResultsCsvRow(two[r]);
      events += one[r].events;
    }
    fmt::print("   1 thread : {:.2f} s ({:.2f} M events/s)\n", one_s,
               static_cast<double>(events) / one_s / 1e6);
    fmt::print("   2 threads: {:.2f} s ({:.2f} M events/s)\n", two_s,
               static_cast<double>(events) / two_s / 1e6);
    fmt::print("   speed-up {:.2f}× on {} hardware threads; results identical: {}\n", one_s / two_s,
               std::thread::hardware_concurrency(), same ? "yes" : "NO");
    // Control: the machine's own speed-up for a CPU-bound loop that shares nothing (4 heap
    // micro-loops), which shows how much of the second core other work left free.
    const auto loops = [](unsigned threads) {
      const auto start = Clock::now();
      std::vector<std::thread> pool;
      for (unsigned w = 0; w < threads; ++w) {
        pool.emplace_back([w, threads] {
          for (unsigned r = w; r < 4; r += threads) (void)HeapPushPopNs(20000, 3000000);
        });
      }
      for (auto& th : pool) th.join();
      return Seconds(Clock::now() - start);
    };
    const double loop_one = loops(1), loop_two = loops(2);
    fmt::print(
        "   control, 4 heap micro-loops: 1 thread {:.2f} s, 2 threads {:.2f} s: speed-up "
        "{:.2f}× (load average now: {})\n",
        loop_one, loop_two, loop_one / loop_two, LoadAverage());
    Flush();
  }

  // 5. Against the raw primitives, measured now in this process.
  Section("5. Engine cost per event against the raw primitives (same process)");
  {
    const double threshold_ns = ThresholdCycleNs(20000);      // 2,000,000 packets
    const double continuous_ns = ContinuousCycleNs(2000000);  // 2,000,000 packets
    const double heap_ns = HeapPushPopNs(20000, 4000000);
    const double event_ns =
        headline_off.wall_s * 1e9 / static_cast<double>(headline_off.results.events);
    // Headline layout: client → provider (pass-through) → 3 mixes → provider: 9 events and 3
    // policy cycles per packet.
    const double packets = static_cast<double>(headline_off.results.events) / 9;
    const double heap_per_packet =
        static_cast<double>(headline_off.results.scheduled_events) / packets;
    const double floor_per_packet = 3 * threshold_ns + heap_per_packet * heap_ns;
    fmt::print("   threshold-timeout (n=100) Add+Release, per packet : {:7.1f} ns\n", threshold_ns);
    fmt::print("   continuous (1 s, 2,500 packets/s) Add+Release     : {:7.1f} ns\n",
               continuous_ns);
    fmt::print("   heap push+pop (20,000 events of 24 bytes)         : {:7.1f} ns\n", heap_ns);
    fmt::print("   engine, per event (headline, entropy off)         : {:7.1f} ns\n", event_ns);
    fmt::print(
        "   engine overhead per event = {:.2f}× the policy's own cost (threshold Add+Release)\n",
        event_ns / threshold_ns);
    fmt::print("   engine cost per event     = {:.2f}× one heap push+pop\n", event_ns / heap_ns);
    const double cont_event_ns = default_continuous_off.wall_s * 1e9 /
                                 static_cast<double>(default_continuous_off.results.events);
    fmt::print(
        "   sotto-default with continuous mixes, entropy off: {:.1f} ns per event = {:.2f}× the "
        "continuous policy's Add+Release\n",
        cont_event_ns, cont_event_ns / continuous_ns);
    fmt::print(
        "   per packet: 9 events, 3 policy cycles, {:.2f} scheduled heap events; primitives alone "
        "{:.0f} ns, engine {:.0f} ns: {:.2f}× the primitives\n",
        heap_per_packet, floor_per_packet, event_ns * 9, event_ns * 9 / floor_per_packet);
  }
  fmt::print("\ntotal {:.1f} s, load average {} (checksum {})\n",
             Seconds(Clock::now() - program_start), LoadAverage(), g_sink.load() % 10);
  return 0;
}
