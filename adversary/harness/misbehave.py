"""Misbehaving nodes and the attacker client, for the attacks that need more than recordings
(`run` options --node-flags, --hold-except, --flood; adversary/README.md).

- `--node-flags NODE=FLAGS`: sotto-corrupt-node's misbehaviour flags for that node (as its own
  command line: `--node-flags "provider-1=--withhold-acks 0.05 --seed 7"`), from the start.
- `--hold-except CLIENT[,CLIENT]` (the n−1 attack): once the clients are up and their mailbox
  ids known, every provider in `--hold-at` (default: all) is restarted as a recording node with
  `--hold-except-client` naming those clients and the attacker: every other client packet is
  accepted, acknowledged and stored, but kept out of the mixing policy until the next
  `--hold-release-s` interval (a node flag, default 10 s). A restart appends a new `start` event
  to the node's recording; its store (pool ids, mail) carries on.
- `--flood PROVIDER:RATE` (the n−1 attack's attacker): `sotto-flood` on a host of its own
  (`attacker`), a fresh link key that sends RATE real Sphinx packets per second into PROVIDER
  and through the cascade into its own mailbox at PROVIDER, from burn_in_s to duration_s of the
  workload (the simulator's flood window). Its mailbox id and every packet it sent (time, acked)
  are in RUN/flood/ — what the attacker knows about its own packets."""
import os
import shlex
import time

from .errors import HarnessError

ATTACKER = "attacker"


def parse_node_flags(items, nodes):
    """[(NODE, 'FLAGS')] -> {node: [argv...]}; unknown nodes are a usage error."""
    out = {}
    for node, flags in items:
        if node not in nodes:
            raise HarnessError(f"--node-flags {node}=...: {node} is not a node of this testnet "
                               f"({', '.join(nodes)})", usage=True)
        try:
            out.setdefault(node, []).extend(shlex.split(flags))
        except ValueError as e:
            raise HarnessError(f"--node-flags {node}={flags}: {e}", usage=True)
    return out


def parse_flood(text, providers):
    """'provider-1:20' -> (provider, rate per second)."""
    if not text:
        return None
    try:
        prov, rate = text.rsplit(":", 1)
        rate = float(rate)
    except ValueError:
        raise HarnessError(f"--flood {text}: expected PROVIDER:RATE (e.g. provider-1:20)",
                           usage=True)
    if prov not in providers:
        raise HarnessError(f"--flood {text}: {prov} is not a provider ({', '.join(providers)})",
                           usage=True)
    if not 0 < rate <= 1000:
        raise HarnessError(f"--flood {text}: the rate must be above 0 and at most 1000 packets "
                           "per second", usage=True)
    return prov, rate


def parse_hold(text, at_text, clients, providers):
    """--hold-except 'c0,c3' and --hold-at 'provider-1' -> ([client indices], [providers])."""
    if not text:
        if at_text:
            raise HarnessError("--hold-at needs --hold-except", usage=True)
        return None
    idx = []
    for name in text.split(","):
        name = name.strip()
        if not (name.startswith("c") and name[1:].isdigit() and int(name[1:]) < clients):
            raise HarnessError(f"--hold-except {text}: {name} is not a client (c0 to "
                               f"c{clients - 1})", usage=True)
        idx.append(int(name[1:]))
    at = [p.strip() for p in at_text.split(",")] if at_text else list(providers)
    for p in at:
        if p not in providers:
            raise HarnessError(f"--hold-at {at_text}: {p} is not a provider", usage=True)
    return idx, at


class Flooder:
    """sotto-flood on the `attacker` host."""

    def __init__(self, run_dir, binary, hosts, sup, client_ini, provider, rate, log):
        self.dir = os.path.join(run_dir, "flood")
        self.binary, self.hosts, self.sup, self.client_ini = binary, hosts, sup, client_ini
        self.provider, self.rate, self.log = provider, rate, log
        self.mailbox = None

    def start(self, start_after_s, duration_s):
        if not os.access(self.binary, os.X_OK):
            raise HarnessError(f"{self.binary} is not built (cmake --build BUILD --target "
                               "sotto-flood)")
        os.makedirs(self.dir, exist_ok=True)
        mbox = os.path.join(self.dir, "mailbox")
        argv = self.hosts.prefix(ATTACKER) + [
            self.binary, "--config", self.client_ini, "--provider", self.provider,
            "--rate", f"{self.rate:g}", "--duration-s", f"{duration_s:g}",
            "--start-after-s", f"{start_after_s:g}", "--mailbox-file", mbox,
            "--log", os.path.join(self.dir, "sent.jsonl")]
        p = self.sup.start(ATTACKER, argv, os.path.join(self.dir, "log"))
        end = time.monotonic() + 15
        while time.monotonic() < end and p.poll() is None:
            if os.path.exists(mbox):
                with open(mbox) as f:
                    self.mailbox = f.read().strip()
                if len(self.mailbox) == 64:
                    break
            time.sleep(0.05)
        if self.mailbox is None or len(self.mailbox) != 64:
            raise HarnessError(f"sotto-flood wrote no mailbox id (see {self.dir}/log)")
        self.log(f"attacker: sotto-flood into {self.provider} at {self.rate:g}/s from "
                 f"{start_after_s:g} s for {duration_s:g} s, mailbox {self.mailbox[:16]}...")
        return self.mailbox

    def describe(self):
        return {"provider": self.provider, "rate_per_s": self.rate, "mailbox": self.mailbox,
                "host": ATTACKER, "address": self.hosts.addr.get(ATTACKER)}


def hold_prefixes(target_mailboxes, attacker_mailbox):
    """The hex prefixes --hold-except-client takes (16 digits: the recordings' client labels)."""
    out = [m[:16] for m in target_mailboxes]
    if attacker_mailbox:
        out.append(attacker_mailbox[:16])
    return out
