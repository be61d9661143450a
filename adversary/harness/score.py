"""`sotto-adversary score DIR`: from a run folder's raw records to results.

1. the observer's link events from the capture (observer/links.jsonl, observer/summary.json);
2. ground truth from the recordings, the harness's send log and the clients (truth.json);
3. sotto-sim's prediction for the same scenario (sim/);
4. every applicable attack: observe() on the adversary's view, then score() against truth
   (results/NAME.json), and the table rows of this run (results/rows.jsonl).
Each step says what it skipped and why (no capture on loopback, no recordings without the
recording node)."""
import json
import os

from . import linkevents, simpredict, truth as truthmod
from .attacks import REGISTRY, CorruptView, ObserverView
from .errors import HarnessError
from .runner import git_commit


class RunData:
    """What score() of an attack may ask about the run (besides truth)."""

    def __init__(self, rd, info, events, sim):
        self.rd, self.info, self.events, self._sim = rd, info, events, sim
        self.has_capture = events is not None
        self.has_recordings = bool(info.get("recording_nodes")) and any(
            f.endswith(".jsonl") for f in os.listdir(rd.p("recordings"))) \
            if os.path.isdir(rd.p("recordings")) else False

    def sim_prediction(self):
        return self._sim

    def corrupt_view(self, nodes):
        """The observer's view plus the recordings of `nodes`, and what the attacker knows of
        its own doings (misbehaviour flags, the flooder's log)."""
        recs = self.recordings()
        missing = [n for n in nodes if n not in recs]
        if missing:
            raise HarnessError(f"no recording of {', '.join(missing)} in {self.rd.path}")
        flood = dict(self.info.get("flood") or {})
        if flood and os.path.exists(self.rd.p("flood/sent.jsonl")):
            flood["sent"] = self.rd.read_jsonl(self.rd.p("flood/sent.jsonl"))
        return CorruptView(self.view, {n: recs[n] for n in nodes},
                           node_flags=self.info.get("node_flags") or {}, flood=flood,
                           hold=self.info.get("hold"))

    def observer_view(self):
        return self.view

    def recordings(self):
        """{node: recording events} (cached): for the views of corrupt-node attacks."""
        if getattr(self, "_recs", None) is None:
            self._recs = truthmod.load_recordings(self.rd.p("recordings"), self.rd.read_jsonl) \
                if os.path.isdir(self.rd.p("recordings")) else {}
        return self._recs


def roles_of(info, consensus):
    node_roles = {n["name"]: n["role"] for n in consensus.get("nodes", [])}
    return {name: "directory" if name == "directory" else node_roles.get(name, "client")
            for name in info["hosts"]}


def cascade_of(consensus):
    by_id = {n["identity"]: n["name"] for n in consensus.get("nodes", [])}
    cas = consensus.get("cascades") or [[]]
    return [by_id[i] for i in cas[0]]


def observer_events(rd, info, roles, log):
    have_pcap = os.path.exists(rd.p("pcap"))
    if not info.get("observer") or not (have_pcap or rd.exists("links")):
        log("observer: no capture in this run (loopback mode): the passive attacks are skipped")
        return None
    if rd.exists("links") and (not have_pcap or os.path.getmtime(rd.p("links")) >=
                               os.path.getmtime(rd.p("pcap"))):
        return linkevents.read(rd.p("links"))
    log(f"observer: extracting link events from {rd.p('pcap')} "
        f"({os.path.getsize(rd.p('pcap')) / 1e6:.0f} MB)")
    addr = {a: n for n, a in info["hosts"].items()}
    events, summary = linkevents.extract(rd.p("pcap"), addr, roles)
    os.makedirs(os.path.dirname(rd.p("links")), exist_ok=True)
    linkevents.write(rd.p("links"), events)
    rd.write_json("capture_summary", summary)
    log(f"observer: {summary['events']} messages on {summary['streams']} TCP streams; kinds "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary["kinds"].items()))
        + (f"; {len(summary['problems'])} stream problems" if summary["problems"] else ""))
    return events


def build_truth(rd, info, events, log):
    recs = truthmod.load_recordings(rd.p("recordings"), rd.read_jsonl) \
        if os.path.isdir(rd.p("recordings")) else {}
    if not recs:
        log("truth: no recordings (the recording node sotto-corrupt-node was not built): "
            "attacks that need ground truth are skipped")
        return None
    sent = rd.read_jsonl("sent")
    finals = {}
    for c in info["clients"]:
        path = rd.p("final", f"{c['name']}.json")
        if os.path.exists(path):
            with open(path) as f:
                finals[c["name"]] = json.load(f)
    data = truthmod.build(info, recs, sent, finals, events)
    rd.write_json("truth", data)
    ch = data["checks"]
    log(f"truth: {ch['client_packets']} client packets traced ({ch['verdicts']}); "
        f"{ch['messages_with_packet']}/{ch['messages']} messages matched to their packet; "
        f"{ch['missing_from_inbox']} missing from, {ch['duplicated_in_inbox']} duplicated in "
        "the recipients' inboxes"
        + (f" (workload ids: {ch['messages_not_delivered_once']})"
           if ch["messages_not_delivered_once"] else ""))
    return truthmod.Truth(data)


def _same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def score(rd, attacks, bin_dir, log, sim=True):
    info = rd.read_json("run")
    if info.get("status") != "done":
        raise HarnessError(f"the run in {rd.path} did not finish (status: {info.get('status')})")
    consensus = json.load(open(rd.p("net/consensus.json")))
    roles = roles_of(info, consensus)
    events = observer_events(rd, info, roles, log)
    truth = build_truth(rd, info, events, log)
    prediction = None
    if sim:
        sim_bin = os.path.join(bin_dir, "sim", "sotto-sim")
        log("sotto-sim: predicting the same scenario (20 repetitions)")
        # The scenario as committed if it is unchanged (a command others can rerun), else the
        # run's own copy.
        scen = info.get("scenario_path")
        if not (scen and os.path.exists(scen) and _same_bytes(scen, rd.p("scenario"))):
            scen = rd.p("scenario")
        scen = os.path.abspath(scen)
        prediction = simpredict.predict(sim_bin, scen, info.get("overrides", []), rd.p("sim"))
        log(f"sotto-sim: mean sender entropy {prediction['entropy_mean']:.3f} bits "
            f"(95% CI {prediction['entropy_ci'][0]:.3f}–{prediction['entropy_ci'][1]:.3f})")
    run = RunData(rd, info, events, prediction)
    run.bin_dir, run.sim_enabled = bin_dir, sim   # for attacks that ask sotto-sim themselves
    names = attacks.split(",") if attacks else list(REGISTRY)
    for n in names:
        if n not in REGISTRY:
            raise HarnessError(f"unknown attack '{n}' (sotto-adversary attacks lists them)",
                               usage=True)
    clients = [c["name"] for c in info["clients"]]
    view = ObserverView(events or [], info["hosts"], roles, clients, cascade_of(consensus),
                        consensus.get("params", {}))
    run.view = view
    rows = []
    for n in names:
        a = REGISTRY[n]
        ok, why = a.applicable(run)
        if ok and "truth" in a.needs and truth is None:
            ok, why = False, "no ground truth (no recordings)"
        if not ok:
            log(f"attack {n}: skipped: {why}")
            continue
        obs = a.observe(a.view(view, run))
        got = a.score(obs, truth, run)
        scored_with = git_commit()
        for r in got:
            r.update({"attack": n, "configuration": info.get("label"),
                      "commit": info.get("bin_commit") or info.get("commit"),
                      "harness_commit": info.get("commit"), "scored_with": scored_with,
                      "command": info.get("command"),
                      "run_dir": rd.path, "mode": info.get("mode")})
        details = [{k: r.pop(k) for k in [k for k in r if k.startswith("_")]} for r in got]
        rd.write_json(os.path.join("results", f"{n}.json"),
                      {"observation": obs, "rows": got, "details": details})
        rows += got
        for r in got:
            log(f"attack {n}: {format_row(r)}")
    rd.write_jsonl("rows", rows)
    return rows


def format_row(r):
    parts = [r.get("measure", "")]
    if r.get("n") is not None:
        parts.append(f"n = {r['n']}")
    if r.get("success") is not None:
        lo, hi = r.get("success_ci", [None, None])
        parts.append(f"success {r['success']:.3f} [{lo:.3f}, {hi:.3f}] vs chance "
                     f"{r.get('chance', float('nan')):.3f}")
    if r.get("entropy_mean") is not None:
        lo, hi = r.get("entropy_ci", [None, None])
        parts.append(f"entropy {r['entropy_mean']:.3f} [{lo:.3f}, {hi:.3f}] bits")
    if r.get("sim_entropy") is not None:
        parts.append(f"sim entropy {r['sim_entropy']:.3f}"
                     + (f", success {r['sim_success']:.3f}" if r.get("sim_success") else ""))
    if r.get("auc") is not None:
        lo, hi = r.get("auc_ci", [None, None])
        parts.append(f"AUC {r['auc']:.3f} [{lo:.3f}, {hi:.3f}]")
    return "; ".join(parts)
