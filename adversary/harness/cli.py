"""The command line of sotto-adversary (thin: each command is a function of another module)."""
import argparse
import os
import sys
import time

from .errors import HarnessError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DESCRIPTION = """\
Measure Sotto's anonymity against real adversaries on a real testnet.

  sotto-adversary run SCENARIO.ini --out DIR [options]   run a testnet, play the workload,
                                                         record, then score (as root: every
                                                         node and client in its own namespace,
                                                         and a global passive observer)
  sotto-adversary score DIR [--attacks A,B]              (re)score a run folder
  sotto-adversary table [DIR...]                         add the runs' rows to the results and
                                                         rewrite papers/anonymity-measured.md
  sotto-adversary attacks                                list the attacks
  sotto-adversary cleanup                                remove leftovers of a killed run
                                                         (sadv-* namespaces, sadvbr0)

SCENARIO is a sotto-sim scenario (sim/scenarios/*.ini); keys the testnet cannot reproduce are
refused. Exit codes: 0 done, 1 error, 2 bad usage. See adversary/README.md."""


def _kv(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"'{text}' is not KEY=VALUE")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise HarnessError(f"{message} (see {self.prog} --help)", usage=True)


def build_parser():
    ap = Parser(prog="sotto-adversary", description=DESCRIPTION,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=Parser)
    r = sub.add_parser("run", help="run a testnet with a workload, record it, score it",
                       description="Run a real testnet for SCENARIO, play its workload, record "
                       "every link and every node, then score the attacks (unless --no-score).")
    r.add_argument("scenario", metavar="SCENARIO.ini")
    r.add_argument("--out", required=True, metavar="DIR", help="run folder (must be new or empty)")
    r.add_argument("--force", action="store_true", help="replace an existing run folder")
    r.add_argument("--bin", default=os.path.join(REPO, "build"), metavar="DIR",
                   help="build folder with the programs (default: build/ of this checkout)")
    r.add_argument("--set", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="override a scenario key (as sotto-sim --set; also used for the "
                   "workload and the prediction)")
    r.add_argument("--authority", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="a sotto-directory parameter that is not a scenario key "
                   "(fetch-interval-ms, mail-retention-s, publish-wait-s, log-level)")
    r.add_argument("--workload", metavar="FILE", help="play this workload file instead of "
                   "drawing one with sotto-sim workload")
    r.add_argument("--warmup-s", type=float, default=20.0, metavar="S",
                   help="cover traffic before the workload starts (default 20)")
    r.add_argument("--drain-s", type=float, metavar="S",
                   help="wait at most this long for the last messages (default: the "
                   "scenario's drain_s + 30)")
    r.add_argument("--loopback", action="store_true",
                   help="everything on 127.0.0.1 even as root (no passive observer)")
    r.add_argument("--netns-prefix", default="sadv", metavar="NAME",
                   help="namespaces NAME-<host>, bridge NAMEbr0 (default sadv), so that two "
                   "runs can share a machine")
    r.add_argument("--subnet", default="10.78.0", metavar="A.B.C",
                   help="the /24 of the bridge (default 10.78.0)")
    r.add_argument("--receipts", default="auto", metavar="auto|off|on|on:S|default",
                   help="the clients' delivery receipts: auto (the default) turns them off "
                   "where the client has the setting — every real packet is then a text, as in "
                   "sotto-sim, and ground truth is exact — and keeps the old client's "
                   "immediate receipts; on:S sets the delay; default keeps the client's own")
    r.add_argument("--label", default=None, help="configuration name in the results table "
                   "(default: the scenario file name)")
    r.add_argument("--attacks", default=None, metavar="A,B", help="attacks to score (default: "
                   "every attack the run's data allows; see 'sotto-adversary attacks')")
    r.add_argument("--no-score", action="store_true", help="only run and record")
    r.add_argument("--node-flags", action="append", type=_kv, default=[], metavar="NODE=FLAGS",
                   help="misbehaviour flags of sotto-corrupt-node for NODE, e.g. "
                   "'provider-1=--withhold-acks 0.05 --seed 3' (adversary/README.md)")
    r.add_argument("--flood", metavar="PROVIDER:RATE", help="the n-1 attacker: sotto-flood on "
                   "its own host sends RATE packets/s into PROVIDER, through the cascade into its "
                   "own mailbox at PROVIDER, from burn_in_s to duration_s of the workload")
    r.add_argument("--hold-except", metavar="CLIENT[,CLIENT]", help="n-1: once the clients are "
                   "up, restart the providers so that they hold every client packet except these "
                   "clients' (and the attacker's) until their --hold-release-s")
    r.add_argument("--hold-at", metavar="PROVIDER[,PROVIDER]", help="the providers that hold "
                   "(default: every provider)")
    r.add_argument("--keep-stores", action="store_true",
                   help="keep the nodes' RocksDB stores (deleted after the run by default)")
    s = sub.add_parser("score", help="score a run folder",
                       description="Extract the observer's link events, the ground truth and "
                       "score every attack on a run folder (again).")
    s.add_argument("dir", metavar="DIR")
    s.add_argument("--attacks", default=None, metavar="A,B")
    s.add_argument("--bin", default=os.path.join(REPO, "build"), metavar="DIR")
    s.add_argument("--no-sim", action="store_true", help="skip sotto-sim's prediction")
    t = sub.add_parser("table", help="write papers/anonymity-measured.md",
                       description="Add the result rows of the given run folders to the "
                       "results file and rewrite the table in papers/anonymity-measured.md.")
    t.add_argument("dirs", nargs="*", metavar="DIR")
    t.add_argument("--rows", default=os.path.join(REPO, "adversary", "results.jsonl"),
                   metavar="FILE", help="the collected rows (default: adversary/results.jsonl)")
    t.add_argument("--paper", default=os.path.join(REPO, "papers", "anonymity-measured.md"),
                   metavar="FILE")
    sub.add_parser("attacks", help="list the attacks and what each needs")
    c = sub.add_parser("cleanup", help="remove sadv-* namespaces and the sadvbr0 bridge")
    c.add_argument("--netns-prefix", default="sadv", metavar="NAME")
    return ap


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main(argv=None):
    ap = build_parser()
    try:
        args = ap.parse_args(argv)
        if args.cmd is None:
            ap.print_help()
            return 2
        if args.cmd == "run":
            from . import runner, score
            args.label = args.label or os.path.splitext(os.path.basename(args.scenario))[0]
            rd = runner.run(args, log)
            log(f"run recorded in {rd.path}")
            if not args.no_score:
                score.score(rd, args.attacks, args.bin, log)
            return 0
        if args.cmd == "score":
            from . import rundir, score
            score.score(rundir.open_existing(args.dir), args.attacks, args.bin, log,
                        sim=not args.no_sim)
            return 0
        if args.cmd == "table":
            from . import table
            table.update(args.dirs, args.rows, args.paper, log)
            return 0
        if args.cmd == "attacks":
            from .attacks import REGISTRY
            for a in REGISTRY.values():
                print(f"{a.name:10} needs {', '.join(sorted(a.needs))}: {a.summary}")
            return 0
        if args.cmd == "cleanup":
            from . import netns
            if not netns.is_root():
                raise HarnessError("cleanup removes namespaces: run it as root")
            netns.configure(args.netns_prefix)
            removed = netns.remove_all()
            print("\n".join(removed) if removed else "nothing to remove")
            return 0
    except HarnessError as e:
        print(f"sotto-adversary: error: {e}", file=sys.stderr)
        return 2 if e.usage else 1
    except KeyboardInterrupt:
        print("sotto-adversary: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the Supervisor already cleaned up
        from .procs import Interrupted
        if isinstance(e, Interrupted):
            print(f"sotto-adversary: {e}; everything it started was stopped", file=sys.stderr)
            return 1
        raise
    return 0
