"""Real `sotto` clients, driven through the command line exactly as a person would
(README "Chat by hand"): init --no-passphrase, up, contact code/add, send, inbox, status, down.

Client i is called `c<i>` (its contacts are called the same way), lives in RUN/clients/c<i>
and uses provider (i mod providers) + 1. As root its daemon runs in its own namespace (the
`init` and `up` commands run there; the daemon forks and stays); every other command talks to
the daemon over the Unix socket in its home, from outside."""
import base64
import concurrent.futures
import json
import os
import subprocess
import time

from .errors import HarnessError
from .procs import kill_pid

# A contact code (client_lib/contact_code.h): version ‖ identity ‖ prekey ‖ provider ‖ mailbox
# ‖ checksum; the mailbox id is bytes 97..128.
MAILBOX_AT = 1 + 32 + 32 + 32


def mailbox_of_code(compact):
    """The mailbox id (hex) inside a compact contact code (`sotto1` + base32)."""
    if not compact.startswith("sotto1"):
        raise HarnessError(f"not a contact code: {compact[:12]}...")
    body = compact[6:].upper()
    raw = base64.b32decode(body + "=" * (-len(body) % 8))
    if raw[0] != 1 or len(raw) < MAILBOX_AT + 32:
        raise HarnessError(f"contact code version {raw[0]} is not the one this harness reads "
                           "(update clients.mailbox_of_code)")
    return raw[MAILBOX_AT:MAILBOX_AT + 32].hex()


class Client:
    def __init__(self, index, home, provider):
        self.index, self.home, self.provider = index, home, provider
        self.name = f"c{index}"
        self.code = self.compact = self.mailbox = None
        self.pid = None


class Clients:
    def __init__(self, run_dir, plan, hosts, sotto, client_ini, sup, log):
        self.dir = os.path.join(run_dir, "clients")
        self.sotto, self.client_ini, self.hosts, self.sup, self.log = (
            sotto, client_ini, hosts, sup, log)
        self.clients = [Client(i, os.path.join(self.dir, f"c{i}"), plan.provider_of(i))
                        for i in range(plan.clients)]

    def cmd(self, c, *args, inside=False, timeout=60, check=True):
        argv = (self.hosts.prefix(c.name) if inside else []) + [
            self.sotto, "--home", c.home, *args]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"'sotto {' '.join(args[:2])}' for {c.name} did not finish in "
                               f"{timeout} s (see {c.home}/sotto.log)")
        if check and r.returncode != 0:
            msg = (r.stderr or r.stdout).strip().splitlines()
            raise HarnessError(f"'sotto {' '.join(args[:2])}' for {c.name} failed (exit "
                               f"{r.returncode}): {msg[-1] if msg else '(no message)'}")
        return r

    def json_cmd(self, c, *args, **kw):
        r = self.cmd(c, "--json", *args, **kw)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise HarnessError(f"'sotto --json {' '.join(args[:2])}' for {c.name} printed no "
                               f"JSON: {r.stdout[:200]}")

    def receipts_setting(self, want):
        """What this client build does with delivery receipts, and the `init` flags for `want`
        (auto | off | on | on:SECONDS | default; auto = off where the client has the setting).
        Clients before issue 9's leak-5 fix send a receipt at once and have no setting:
        'immediate'."""
        r = subprocess.run([self.sotto, "init", "--help"], capture_output=True, text=True,
                           timeout=30)
        if "--receipts" not in r.stdout:
            if want not in ("default", "immediate", "auto"):
                raise HarnessError(f"--receipts {want}: this sotto client has no receipts "
                                   "setting (it sends every receipt at once); use --receipts "
                                   "default")
            return "immediate", []
        if want == "default":
            return "on:900", []
        if want in ("off", "auto"):
            return "off", ["--receipts", "off"]
        delay = want.split(":", 1)[1] if ":" in want else "900"
        if want.split(":")[0] != "on" or not delay.isdigit():
            raise HarnessError(f"--receipts {want}: use off, on, on:SECONDS or default",
                               usage=True)
        return f"on:{delay}", ["--receipts", "on", "--receipt-delay-s", delay]

    def start(self, receipts="auto"):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.receipts, flags = self.receipts_setting(receipts)
        for c in self.clients:
            self.cmd(c, "init", "--config", self.client_ini, "--provider", c.provider,
                     "--no-passphrase", *flags, inside=True)
            self.sup.on_cleanup(f"stop the daemon of {c.name}", lambda c=c: self.stop_one(c))
            self.cmd(c, "up", inside=True)
            try:
                with open(os.path.join(c.home, "daemon.pid")) as f:
                    c.pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                raise HarnessError(f"{c.name}'s daemon wrote no daemon.pid (see "
                                   f"{c.home}/sotto.log)")
            code = self.json_cmd(c, "contact", "code")
            c.code, c.compact = code["code"], code["compact"]
            c.mailbox = mailbox_of_code(c.compact)
        self.log(f"{len(self.clients)} clients up: " + ", ".join(
            f"{c.name}→{c.provider}" for c in self.clients))

    def introduce(self, pairs):
        for a, b in pairs:
            ca, cb = self.clients[a], self.clients[b]
            self.cmd(ca, "contact", "add", cb.name, cb.code)
            self.cmd(cb, "contact", "add", ca.name, ca.code)
        self.log(f"contacts exchanged along {len(pairs)} friend pairs")

    def wait_ready(self, seconds=60):
        """Every daemon has a consensus and has reached its provider."""
        end = time.monotonic() + seconds
        pending = list(self.clients)
        while pending and time.monotonic() < end:
            still = []
            for c in pending:
                st = self.json_cmd(c, "status", check=False) if self._up(c) else {}
                if not (st.get("consensus") == "ok" and st.get("connected")):
                    still.append(c)
            pending = still
            if pending:
                time.sleep(0.5)
        if pending:
            raise HarnessError(f"clients {', '.join(c.name for c in pending)} did not reach "
                               f"their provider within {seconds} s (see their sotto.log)")

    def _up(self, c):
        return os.path.exists(os.path.join(c.home, "daemon.pid"))

    def send(self, sender, recipient, text):
        """(message id hex, t_before_us, t_after_us) of one `sotto send`."""
        c = self.clients[sender]
        t0 = time.time_ns() // 1000
        r = self.cmd(c, "--json", "send", f"c{recipient}", text, check=False)
        t1 = time.time_ns() // 1000
        if r.returncode != 0:
            return None, t0, t1, (r.stderr or r.stdout).strip()[-200:]
        try:
            return json.loads(r.stdout)["id"], t0, t1, None
        except (ValueError, KeyError):
            return None, t0, t1, f"no id in: {r.stdout[:100]}"

    def collect(self, out_dir):
        """Each client's inbox, history with every contact, and status, as JSON files (the
        clients in parallel: each is a few `sotto` calls)."""
        os.makedirs(out_dir, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda c: self._collect_one(c, out_dir), self.clients))

    def _collect_one(self, c, out_dir):
        data = {"name": c.name, "provider": c.provider, "mailbox": c.mailbox}
        data["status"] = self.json_cmd(c, "status", check=False)
        data["inbox"] = self.json_cmd(c, "inbox", "--peek", check=False).get("messages", [])
        contacts = self.json_cmd(c, "contact", "list", check=False).get("contacts", [])
        data["history"] = {}
        for k in contacts:
            h = self.json_cmd(c, "history", k["name"], "--limit", "100000", check=False)
            data["history"][k["name"]] = h.get("messages", [])
        with open(os.path.join(out_dir, f"{c.name}.json"), "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)

    def stop_one(self, c):
        """`sotto down`; if the daemon is still there after that, SIGTERM/SIGKILL its pid."""
        if c.pid is None:
            return
        self.cmd(c, "down", check=False, timeout=20)
        kill_pid(c.pid)
        c.pid = None

    def stop_all(self):
        """stop_one for every client, in parallel (each `sotto down` waits for its daemon)."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.stop_one, self.clients))

    def describe(self):
        return [{"index": c.index, "name": c.name, "provider": c.provider, "mailbox": c.mailbox,
                 "address": self.hosts.addr[c.name]} for c in self.clients]
