"""sotto-sim scenario files, read by the harness and translated to a testnet (NetPlan).

A scenario is the INI file sotto-sim reads (sim/README.md, "Scenario keys"): flat `key = value`
lines, `#` comments. The harness reads the same file so that the simulator's prediction and the
testnet's measurement describe the same network. Key names, defaults and validity come from
`sotto-sim keys` (the simulator is the authority on its own format); the harness then decides,
key by key, whether the testnet can reproduce the value:

- reproduced: mapped to sotto-directory parameters (`sotto-directory run --help`), to the
  client count and provider assignment, or to the workload (who writes to whom, when);
- sim-only: keys that change only how the simulator measures (repetitions, entropy tracking) —
  ignored, listed in the run's notes;
- not reproducible: any other value than the default is refused with a one-line error naming
  the file, the line, the key and what the testnet can do instead. Keys the harness does not
  know (added to sotto-sim later) are refused the same way unless left at their default.
"""
import dataclasses
import math
import re
import subprocess

from .errors import HarnessError

# Keys that only change how sotto-sim measures, never the network.
SIM_ONLY = {"track_entropy", "entropy_epsilon", "repetitions"}
# Keys by which sotto-sim models the testnet itself; the real testnet has its own values.
SIM_MODELS_TESTNET = {"processing_us"}

# Keys the workload (sotto-sim workload, or the stand-in) consumes.
WORKLOAD_KEYS = {"seed", "real_rate_per_s", "social_graph", "friends", "duration_s",
                 "burn_in_s", "clients", "message_packets"}

# Sizes the testnet has: every node of the cascade is its own process and namespace.
MAX_CLIENTS = 64
MAX_PROVIDERS = 8
# A path is sender's provider + the cascade + recipient's provider; with the default
# SOTTO_SPHINX_MAX_HOPS = 5 a cascade holds at most 3 mixes.
MAX_LAYERS = 3


def parse_ini(text, origin):
    """[(key, value, line)] of a flat INI text, as sotto-sim reads it (errors name the line)."""
    out, seen = [], {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            raise HarnessError(f"{origin}:{number}: section header '{line}' is not allowed: a "
                               "scenario is flat key = value lines")
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key:
            raise HarnessError(f"{origin}:{number}: '{line}' is not a 'key = value' line")
        if key in seen:
            raise HarnessError(f"{origin}:{number}: key '{key}' is set twice (first on line "
                               f"{seen[key]})")
        seen[key] = number
        out.append((key, value, number))
    return out


KEYS_LINE = re.compile(r"^  (\S+)\s+.*\(default (.*?); (.*)\)\s*$")


def sim_keys(sim_binary):
    """{key: default text} from `sotto-sim keys`."""
    try:
        text = subprocess.run([sim_binary, "keys"], check=True, capture_output=True,
                              text=True, timeout=30).stdout
    except FileNotFoundError:
        raise HarnessError(f"sotto-sim not found at {sim_binary} (build it: cmake --build build "
                           "--target sotto-sim, or pass --bin DIR)")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise HarnessError(f"'{sim_binary} keys' failed: {e}")
    keys = {}
    for line in text.splitlines():
        m = KEYS_LINE.match(line)
        if m:
            keys[m.group(1)] = m.group(2)
    if "batch_size" not in keys:
        raise HarnessError(f"could not read the scenario keys from '{sim_binary} keys' (is it "
                           "sotto-sim?)")
    return keys


@dataclasses.dataclass
class Scenario:
    path: str
    values: dict      # key -> value text, every known key (file value, else sotto-sim default)
    lines: dict       # key -> line number, for keys set in the file
    defaults: dict    # key -> default text

    def where(self, key):
        return f"{self.path}:{self.lines[key]}" if key in self.lines else f"{self.path}"

    def text(self, key):
        return self.values[key]

    def number(self, key):
        return float(self.values[key])

    def count(self, key):
        return int(self.values[key])

    def is_default(self, key):
        return self.values[key] == self.defaults.get(key)

    def as_dict(self):
        return dict(self.values)


def load(path, sim_binary, overrides=()):
    """The scenario at `path` with `overrides` ((key, value) pairs, like sotto-sim --set)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise HarnessError(f"cannot read scenario {path}: {e.strerror}")
    defaults = sim_keys(sim_binary)
    values, lines = dict(defaults), {}
    for key, value, number in parse_ini(text, path):
        if key not in defaults:
            raise HarnessError(f"{path}:{number}: unknown key '{key}' (sotto-sim keys lists the "
                               f"{len(defaults)} allowed keys)")
        values[key], lines[key] = value, number
    for key, value in overrides:
        if key not in defaults:
            raise HarnessError(f"--set {key}={value}: unknown key '{key}'", usage=True)
        values[key] = value
    return Scenario(path, values, lines, defaults)


@dataclasses.dataclass
class NetPlan:
    """What the harness builds: a testnet that reproduces the scenario."""
    clients: int
    providers: int
    layers: int
    authority: dict           # sotto-directory option (without --) -> value text
    duration_s: float
    burn_in_s: float
    drain_s: float
    seed: int
    notes: list               # what was ignored or approximated, one sentence each

    def provider_of(self, client):
        """client i -> provider (i mod providers) + 1, as sotto-sim assigns them."""
        return f"provider-{client % self.providers + 1}"

    def mixes(self):
        return [f"mix-{i}" for i in range(1, self.layers + 1)]

    def provider_names(self):
        return [f"provider-{i}" for i in range(1, self.providers + 1)]


def _refuse(s, key, why):
    raise HarnessError(f"{s.where(key)}: {key} = {s.text(key)} cannot be reproduced on the "
                       f"testnet: {why}")


def _per_minute(s, key, allow_zero):
    """A per-second client rate as the authority's whole number per minute."""
    rate = s.number(key)
    per_min = rate * 60
    if rate == 0 and not allow_zero:
        _refuse(s, key, "sotto clients always send a payload stream (set a rate > 0)")
    if abs(per_min - round(per_min)) > 1e-9 * max(1.0, per_min):
        _refuse(s, key, f"the authority sets client rates in whole packets per minute "
                        f"({per_min:g}/min is not whole; use a multiple of 1/60 per second)")
    return str(int(round(per_min)))


def _whole_ms(s, key):
    ms = s.number(key)
    if ms < 1 or abs(ms - round(ms)) > 1e-9 * ms:
        _refuse(s, key, "the authority sets it in whole milliseconds (>= 1)")
    return str(int(round(ms)))


# sotto-directory parameters the harness sets itself; --set may change only these.
AUTHORITY_SETTABLE = {"fetch-interval-ms", "mail-retention-s", "publish-wait-s", "log-level"}


def translate(s, authority_overrides=()):
    """NetPlan for scenario `s`, or a HarnessError naming the first key it cannot reproduce."""
    notes = []
    known = (SIM_ONLY | WORKLOAD_KEYS | {
        "drain_s", "providers", "topology", "cascades", "layers", "mixes_per_layer",
        "path_length", "policy", "batch_size", "timeout_ms", "period_ms", "pool_keep_fraction",
        "pool_min_keep", "mean_delay_ms", "min_batch", "provider_policy", "link_latency_ms",
        "payload_rate_per_s", "loop_rate_per_s", "drop_rate_per_s", "arrivals",
        "corrupt_mix_fraction", "corrupt_mix_probability", "corrupt_layers",
        "corrupt_providers", "provider_dummies"} | SIM_MODELS_TESTNET)
    for key in sorted(s.values):
        if key not in known and not s.is_default(key):
            _refuse(s, key, "the harness does not know this key yet (leave it at its default, "
                            f"{s.defaults[key]})")
    for key in sorted(SIM_ONLY & set(s.lines)):
        notes.append(f"{key} is sotto-sim's own setting; the testnet ignores it")
    for key in sorted(SIM_MODELS_TESTNET & set(s.lines)):
        notes.append(f"{key} = {s.text(key)} is the simulator's model of the testnet's nodes; "
                     "the real nodes take what they take")

    clients = s.count("clients")
    if clients > MAX_CLIENTS:
        _refuse(s, "clients", f"at most {MAX_CLIENTS} real clients (each is a process and a "
                              "network namespace)")
    providers = s.count("providers")
    if providers > MAX_PROVIDERS:
        _refuse(s, "providers", f"at most {MAX_PROVIDERS} providers")
    if providers > clients:
        _refuse(s, "providers", "more providers than clients")
    if s.text("topology") != "cascade":
        _refuse(s, "topology", "the testnet runs one cascade (topology = cascade)")
    if s.count("cascades") != 1 and not s.is_default("cascades"):
        _refuse(s, "cascades", "the testnet runs one cascade")
    if s.count("mixes_per_layer") != 1:
        _refuse(s, "mixes_per_layer", "the testnet runs one cascade: one mix per layer")
    layers = s.count("layers")
    if layers > MAX_LAYERS:
        _refuse(s, "layers", f"a cascade of at most {MAX_LAYERS} mixes fits the Sphinx path "
                             "(SOTTO_SPHINX_MAX_HOPS = 5: provider, mixes, provider)")
    if not s.is_default("path_length"):
        notes.append("path_length applies to free-route only; ignored")

    policy = s.text("policy")
    auth = {"mixing-policy": policy, "cascade-length": str(layers)}
    if policy == "threshold-timeout":
        auth["batch-size"] = s.text("batch_size")
        auth["batch-timeout-ms"] = _whole_ms(s, "timeout_ms")
    elif policy in ("timed", "pool"):
        auth["batch-timeout-ms"] = _whole_ms(s, "period_ms")
        if policy == "pool":
            keep = s.number("pool_keep_fraction") * 100
            if abs(keep - round(keep)) > 1e-9 or keep > 99:
                _refuse(s, "pool_keep_fraction", "the authority sets it in whole percent, 0..99")
            auth["pool-keep-percent"] = str(int(round(keep)))
            if s.count("pool_min_keep") != 0:
                _refuse(s, "pool_min_keep", "sotto-mixnode's pool has no minimum (set 0)")
    elif policy == "continuous":
        auth["mean-delay-ms"] = _whole_ms(s, "mean_delay_ms")
    auth["min-batch"] = s.text("min_batch")
    if s.text("provider_policy") != "same":
        _refuse(s, "provider_policy", "sotto-mixnode providers mix with the mixes' policy "
                                      "(provider_policy = same)")
    if "provider_dummies" in s.values and s.text("provider_dummies") != "false":
        _refuse(s, "provider_dummies", "sotto-mixnode providers never pad their rounds "
                                       "(provider_dummies = false)")
    latency = s.number("link_latency_ms")
    if latency > 5:
        _refuse(s, "link_latency_ms", "the testnet adds no link latency; its links and node "
                                      "processing take about a millisecond (use <= 5)")
    if latency > 0:
        notes.append(f"link_latency_ms = {latency:g}: not added; the testnet's own link and "
                     "processing delay stands for it")
    auth["send-rate-per-min"] = _per_minute(s, "payload_rate_per_s", allow_zero=False)
    auth["cover-loop-per-min"] = _per_minute(s, "loop_rate_per_s", allow_zero=True)
    auth["cover-drop-per-min"] = _per_minute(s, "drop_rate_per_s", allow_zero=True)
    if s.text("arrivals") != "poisson":
        _refuse(s, "arrivals", "sotto clients send Poisson streams (arrivals = poisson)")
    if s.count("message_packets") != 1:
        _refuse(s, "message_packets", "a sotto text is one packet (message_packets = 1)")
    for key in ("corrupt_mix_fraction", "corrupt_mix_probability", "corrupt_layers",
                "corrupt_providers"):
        if key in s.values and s.text(key) not in ("0", "", "false"):
            _refuse(s, key, "corrupt nodes are chosen with the harness's attack modules, not "
                            "the scenario (see adversary/README.md); leave it at its default")
    real = s.number("real_rate_per_s")
    if real <= 0:
        _refuse(s, "real_rate_per_s", "the workload needs real messages (rate > 0)")
    if clients < 8:
        notes.append(f"clients = {clients}: fewer than the 8 the issue asks for")
    auth["fetch-interval-ms"] = "2000"  # the authority's default; not a scenario key
    for key, value in authority_overrides:
        if key not in AUTHORITY_SETTABLE:
            raise HarnessError(f"--authority {key}={value}: only "
                               f"{', '.join(sorted(AUTHORITY_SETTABLE))} may be set this way; "
                               "the rest comes from the scenario", usage=True)
        auth[key] = value
    duration, burn_in = s.number("duration_s"), s.number("burn_in_s")
    if burn_in >= duration:
        _refuse(s, "burn_in_s", "it must be shorter than duration_s")
    if not math.isfinite(duration) or duration > 4 * 3600:
        _refuse(s, "duration_s", "a testnet run plays the workload in real time; at most 4 h")
    return NetPlan(clients=clients, providers=providers, layers=layers, authority=auth,
                   duration_s=duration, burn_in_s=burn_in, drain_s=s.number("drain_s"),
                   seed=int(s.text("seed")), notes=notes)
