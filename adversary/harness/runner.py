"""`sotto-adversary run`: build the testnet, play the workload in real time, collect.

Order (each step undone on every exit path by the Supervisor): hosts (bridge + namespaces) →
the observer's capture → the directory and the nodes (recording nodes when built) → the
clients (init, up, contacts along the workload's friend pairs) → warm-up → the workload, each
message a `sotto send` at its created_us after the start → the drain (until every message is in
its recipient's inbox, bounded) → the clients' final inbox/history/status → stop everything.
Scoring (`score.py`) then runs on the folder, unless --no-score."""
import json
import os
import shutil
import subprocess
import sys
import time

from . import capture, misbehave, netns, scenario as scen, testnet, workload as wl
from .clients import Clients
from .errors import HarnessError
from .procs import Supervisor
from .rundir import RunDir

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def git_commit(path=REPO):
    try:
        head = subprocess.run(["git", "-C", path, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", path, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "") if head else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def shown_command(argv):
    """The command line as typed from the repository's root (paths inside it made relative)."""
    out = []
    for a in argv:
        p = os.path.abspath(a) if os.path.exists(a) else a
        if os.path.isabs(p) and p.startswith(REPO + os.sep):
            a = os.path.relpath(p, REPO)
        out.append(a if a and all(c.isalnum() or c in "-_./=,:+@" for c in a) else repr(a))
    return " ".join(out)


def prepare_out(path, force):
    if os.path.exists(path) and os.listdir(path):
        if not force:
            raise HarnessError(f"{path} exists and is not empty (choose another --out, or "
                               "--force to replace it)", usage=True)
        if not os.path.exists(os.path.join(path, "run.json")):
            raise HarnessError(f"--force refuses to delete {path}: it is not a run folder")
        shutil.rmtree(path)
    os.makedirs(path, exist_ok=True)
    return RunDir(path)


def run(args, log):
    netns.configure(args.netns_prefix, args.subnet)
    bins = testnet.binaries(args.bin)
    s = scen.load(args.scenario, bins["sim"], args.set)
    plan = scen.translate(s, args.authority)
    mode = "loopback" if args.loopback or not netns.is_root() else "netns"
    rd = prepare_out(args.out, args.force)
    shutil.copyfile(args.scenario, rd.p("scenario"))
    w = wl.make(bins["sim"], s, args.set, rd.p("workload"), args.workload)
    node_flags = misbehave.parse_node_flags(getattr(args, "node_flags", []),
                                            plan.mixes() + plan.provider_names())
    flood = misbehave.parse_flood(getattr(args, "flood", None), plan.provider_names())
    hold = misbehave.parse_hold(getattr(args, "hold_except", None), getattr(args, "hold_at", None),
                                plan.clients, plan.provider_names())
    if hold and mode != "netns":
        raise HarnessError("--hold-except restarts providers, which needs fixed addresses: run "
                           "as root without --loopback", usage=True)
    names = ["directory"] + plan.mixes() + plan.provider_names() + (
        [misbehave.ATTACKER] if flood else []) + [f"c{i}" for i in range(plan.clients)]
    hosts = netns.Hosts(mode, names)
    info = {
        "command": shown_command(sys.argv), "argv": sys.argv, "commit": git_commit(),
        # the checkout the programs were built from, when --bin is another checkout's build
        "bin_commit": git_commit(os.path.dirname(os.path.abspath(args.bin))),
        "scenario_path": os.path.abspath(args.scenario), "scenario": s.as_dict(),
        "overrides": args.set,
        "plan": plan.__dict__, "mode": mode, "label": args.label,
        "observer": mode == "netns",
        "recording_nodes": bins["recording"],
        "messages": len(w.messages), "warmup_s": args.warmup_s,
        "hosts": {n: hosts.addr[n] for n in names},
        "netns_prefix": args.netns_prefix, "subnet": args.subnet,
        "status": "running", "started_unix": time.time(),
        "node_flags": node_flags,
    }
    if mode != "netns":
        log("not root (or --loopback): every process on 127.0.0.1, and NO passive observer "
            "(capturing needs root and one address per host); ground truth and the client "
            "checks still run")
    rd.write_json("run", info)
    epoch = max(3600, int(2 * (args.warmup_s + plan.duration_s + plan.drain_s + 600)))
    try:
        with Supervisor(log) as sup:
            hosts.setup(sup)
            cap = capture.Capture(rd.path, sup) if mode == "netns" else None
            if cap:
                cap.start()
            net = testnet.Testnet(rd.path, plan, hosts, bins, sup, log, epoch, node_flags)
            net.start()
            info["node_addresses"] = net.node_addresses()
            cl = Clients(rd.path, plan, hosts, bins["sotto"], net.client_ini, sup, log)
            cl.start(args.receipts)
            info["receipts"] = cl.receipts
            cl.introduce(w.pairs())
            cl.wait_ready()
            info["clients"] = cl.describe()
            if flood:
                fl = misbehave.Flooder(rd.path, bins["flood"], hosts, sup, net.client_ini,
                                       flood[0], flood[1], log)
                fl.start(args.warmup_s + plan.burn_in_s, plan.duration_s - plan.burn_in_s)
                info["flood"] = fl.describe()
            if hold:
                targets, at = hold
                prefixes = misbehave.hold_prefixes(
                    [cl.clients[i].mailbox for i in targets],
                    info["flood"]["mailbox"] if flood else None)
                for p in at:
                    net.restart(p, ["--hold-except-client", ",".join(prefixes)])
                log(f"n-1: {', '.join(at)} restarted holding every client packet except "
                    f"{', '.join(f'c{i}' for i in targets)}'s" + (" and the attacker's" if flood
                                                                  else ""))
                info["hold"] = {"except": targets, "at": at, "prefixes": prefixes}
                info["node_flags"] = net.node_flags
                cl.wait_ready()
            rd.write_json("run", info)
            log(f"warm-up: {args.warmup_s:g} s of cover traffic before the workload starts")
            sleep_checking(args.warmup_s, net)
            info["t0_us"] = t0 = time.time_ns() // 1000
            rd.write_json("run", info)
            sent = play(w, cl, net, t0, plan, rd, log)
            info["drained"] = drain(w, sent, cl, net, plan, args, log)
            info["t_end_us"] = time.time_ns() // 1000
            cl.collect(rd.p("final"))
            if flood:
                sup.stop(misbehave.ATTACKER)
            cl.stop_all()
            sup.stop_all(net.nodes)  # at once: each waits on its own shutdown, not the others'
            sup.stop("directory")
            if cap:
                info["capture"] = cap.stop()
            info["status"] = "done"
    except BaseException as e:
        info["status"] = f"failed: {e}"
        rd.write_json("run", info)
        raise
    info["finished_unix"] = time.time()
    rd.write_json("run", info)
    if not args.keep_stores:
        net.prune()
    return rd


def sleep_checking(seconds, net):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        net.check_alive()
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))


def play(w, cl, net, t0, plan, rd, log):
    """Each workload message as a `sotto send` at t0 + created_us; returns {id: sent record}."""
    sent, late, failed = {}, 0, 0
    next_check = time.monotonic() + 2
    total = len(w.messages)
    log(f"playing {total} messages over {plan.duration_s:g} s")
    last_report = time.monotonic()
    with open(rd.p("sent"), "w") as out:
        for k, m in enumerate(w.messages):
            due = t0 + m["created_us"]
            while True:
                now = time.time_ns() // 1000
                if now >= due:
                    break
                if time.monotonic() >= next_check:
                    net.check_alive()
                    next_check = time.monotonic() + 2
                time.sleep(min(0.5, (due - now) / 1e6))
            text = f"sotto-adversary message {m['id']} from c{m['sender']} to c{m['recipient']}"
            msg_id, tb, ta, err = cl.send(m["sender"], m["recipient"], text)
            rec = {"id": m["id"], "sender": m["sender"], "recipient": m["recipient"],
                   "created_us": m["created_us"], "due_us": due, "before_us": tb,
                   "after_us": ta, "message_id": msg_id, "text": text, "error": err}
            late += tb - due > 1_000_000
            failed += err is not None
            out.write(json.dumps(rec, sort_keys=True) + "\n")
            out.flush()
            sent[m["id"]] = rec
            if time.monotonic() - last_report > 30:
                log(f"  {k + 1}/{total} sent ({(ta - t0) / 1e6:.0f} s)")
                last_report = time.monotonic()
    rest = t0 + int(plan.duration_s * 1e6) - time.time_ns() // 1000
    if rest > 0:
        sleep_checking(rest / 1e6, net)
    log(f"workload played: {total - failed} sent, {failed} refused by the client, {late} more "
        "than 1 s late")
    if failed:
        bad = next(r for r in sent.values() if r["error"])
        log(f"  first refusal: message {bad['id']}: {bad['error']}")
    return sent


def drain(w, sent, cl, net, plan, args, log):
    """Waits until every sent message is in its recipient's inbox, for at most drain_s + 30 s.
    Returns whether all arrived."""
    want = {}
    for r in sent.values():
        if r["message_id"]:
            want.setdefault(r["recipient"], set()).add(r["message_id"])
    limit = plan.drain_s + 30 if args.drain_s is None else args.drain_s
    end = time.monotonic() + limit
    log(f"drain: waiting up to {limit:g} s for every message to reach its recipient")
    while True:
        missing = 0
        for rcpt, ids in want.items():
            inbox = cl.json_cmd(cl.clients[rcpt], "inbox", "--peek", check=False)
            have = {m.get("id") for m in inbox.get("messages", [])}
            missing += len(ids - have)
        if missing == 0:
            log("every message arrived")
            # Let the last receipts and fetches through, so the end of the run is like its middle.
            sleep_checking(min(5.0, limit), net)
            return True
        if time.monotonic() >= end:
            log(f"drain: {missing} message(s) still missing after {limit:g} s")
            return False
        net.check_alive()
        time.sleep(3)
