"""The testnet: a directory authority, the cascade's mixes and the providers, each a separate
process (in its own namespace as root), every node run as the recording node when it is built.

Layout under RUN/net/: `directory/` and one folder per node (`node.ini`, `log`, `data/`), and
RUN/recordings/NODE.jsonl (the recording node's events, adversary/README.md "Recordings").
Keys and configuration are made exactly as scripts/testnet.sh makes them (sotto-directory init,
sotto-mixnode init, the `node = NAME:KEY` lines), with the scenario's network parameters in the
authority's configuration. The epoch is long enough that no epoch boundary, and hence no key
change or re-signed consensus, falls inside a run."""
import json
import os
import shutil
import time

from .errors import HarnessError

DIR_PORT = 7000
NODE_PORT = 7001


def binaries(bin_dir):
    """Paths of the programs a run needs; the recording node if it is built."""
    b = {
        "directory": os.path.join(bin_dir, "directory", "sotto-directory"),
        "mixnode": os.path.join(bin_dir, "mixnode", "sotto-mixnode"),
        "corrupt": os.path.join(bin_dir, "adversary", "sotto-corrupt-node"),
        "sotto": os.path.join(bin_dir, "cli", "sotto"),
        "sim": os.path.join(bin_dir, "sim", "sotto-sim"),
        "flood": os.path.join(bin_dir, "adversary", "sotto-flood"),
    }
    for key in ("directory", "mixnode", "sotto", "sim"):
        if not os.access(b[key], os.X_OK):
            raise HarnessError(f"{b[key]} is not built (cmake --build {bin_dir} --target "
                               f"{os.path.basename(b[key])}, or pass --bin DIR)")
    b["recording"] = os.access(b["corrupt"], os.X_OK)
    return b


def _run(argv, what, timeout=60):
    import subprocess
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise HarnessError(f"{what} failed: {(r.stderr or r.stdout).strip()[-300:]}")
    return r.stdout


def _wait_file(path, seconds, proc=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


class Testnet:
    def __init__(self, run_dir, plan, hosts, bins, sup, log, epoch_length_s, node_flags=None):
        self.dir = os.path.join(run_dir, "net")
        self.rec_dir = os.path.join(run_dir, "recordings")
        self.plan, self.hosts, self.bins, self.sup, self.log = plan, hosts, bins, sup, log
        self.epoch_length_s = epoch_length_s
        self.nodes = plan.mixes() + plan.provider_names()
        self.client_ini = os.path.join(self.dir, "client.ini")
        self.recording = bins["recording"]
        self.node_flags = dict(node_flags or {})   # node -> misbehaviour flags (misbehave.py)
        if self.node_flags and not self.recording:
            raise HarnessError("--node-flags needs the recording node sotto-corrupt-node "
                               "(cmake --build BUILD --target sotto-corrupt-node)")

    def listen(self, name, port):
        if self.hosts.mode == "netns":
            return f"tcp://{self.hosts.addr[name]}:{port}"
        return "tcp://127.0.0.1:*"

    def start(self):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        os.makedirs(self.rec_dir, exist_ok=True)
        for n in ["directory"] + self.nodes:
            os.makedirs(os.path.join(self.dir, n), mode=0o700, exist_ok=True)
        out = _run([self.bins["directory"], "init", "--state-dir",
                    os.path.join(self.dir, "directory", "data")], "sotto-directory init")
        keys = dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)
        dlink, dverify = keys.get("directory-link-key"), keys.get("directory-verify-key")
        if not dlink or not dverify:
            raise HarnessError("sotto-directory init did not print the authority's keys")
        genesis = int(time.time()) - 30
        node_lines, layer = [], 1
        for n in self.nodes:
            role = "provider" if n.startswith("provider-") else "mix"
            lay = 0 if role == "provider" else layer
            layer += role == "mix"
            out = _run([self.bins["mixnode"], "init", "--state-dir",
                        os.path.join(self.dir, n, "data"), "--name", n, "--role", role,
                        "--layer", str(lay)], f"sotto-mixnode init {n}")
            node_lines += [line for line in out.splitlines() if line.startswith("node = ")]
            with open(os.path.join(self.dir, n, "node.ini"), "w") as f:
                f.write(f"state-dir = {os.path.join(self.dir, n, 'data')}\nname = {n}\n"
                        f"role = {role}\nlayer = {lay}\nlisten = {self.listen(n, NODE_PORT)}\n")
        params = "".join(f"{k} = {v}\n" for k, v in sorted(self.plan.authority.items()))
        dcfg = os.path.join(self.dir, "directory", "directory.ini")
        with open(dcfg, "w") as f:
            f.write(f"state-dir = {os.path.join(self.dir, 'directory', 'data')}\n"
                    f"listen = {self.listen('directory', DIR_PORT)}\n"
                    f"epoch-length-s = {self.epoch_length_s}\ngenesis-unix = {genesis}\n"
                    + params + "\n".join(node_lines) + "\n")
        self.log(f"starting the directory authority ({self.hosts.addr['directory']})")
        p = self.sup.start("directory", self.hosts.prefix("directory") + [
            self.bins["directory"], "run", "--config", dcfg],
            os.path.join(self.dir, "directory", "log"))
        endpoint_file = os.path.join(self.dir, "directory", "data", "endpoint")
        if not _wait_file(endpoint_file, 15, p):
            raise HarnessError(f"the directory did not start (see {self.dir}/directory/log)")
        with open(endpoint_file) as f:
            dendpoint = f.read().strip()
        client = (f"directory = {dendpoint}\ndirectory-link-key = {dlink}\n"
                  f"directory-verify-key = {dverify}\nepoch-length-s = {self.epoch_length_s}\n"
                  f"genesis-unix = {genesis}\n")
        with open(self.client_ini, "w") as f:
            f.write(client)
        kind = "recording node sotto-corrupt-node" if self.recording else "sotto-mixnode " \
            "(the recording node is not built: no ground truth from the nodes)"
        self.log(f"starting {', '.join(self.nodes)} as {kind}")
        for n in self.nodes:
            cfg = os.path.join(self.dir, n, "node.ini")
            with open(cfg, "a") as f:
                f.write(client)
            self.sup.start(n, self.hosts.prefix(n) + self.argv(n),
                           os.path.join(self.dir, n, "log"))
        for n in self.nodes:
            if not _wait_file(os.path.join(self.dir, n, "data", "endpoint"), 15):
                raise HarnessError(f"{n} did not start (see {self.dir}/{n}/log)")
        self.wait_consensus()

    def argv(self, n, extra=()):
        cfg = os.path.join(self.dir, n, "node.ini")
        if self.recording:
            return [self.bins["corrupt"], "run", "--config", cfg, "--record",
                    os.path.join(self.rec_dir, f"{n}.jsonl")] + self.node_flags.get(n, []) + \
                list(extra)
        return [self.bins["mixnode"], "run", "--config", cfg]

    def restart(self, n, extra):
        """Stops node n and starts it again with more misbehaviour flags (its store, keys and
        recording carry on; the recording gets a second `start` event)."""
        endpoint = os.path.join(self.dir, n, "data", "endpoint")
        self.sup.stop(n, forget=True)
        if os.path.exists(endpoint):
            os.remove(endpoint)
        self.node_flags[n] = self.node_flags.get(n, []) + list(extra)
        p = self.sup.start(n, self.hosts.prefix(n) + self.argv(n),
                           os.path.join(self.dir, n, "log"))
        if not _wait_file(endpoint, 15, p):
            raise HarnessError(f"{n} did not start again (see {self.dir}/{n}/log)")

    def wait_consensus(self, seconds=60):
        """Waits until a consensus lists every node (and so every node posted its keys)."""
        cdir = os.path.join(self.dir, "directory", "data", "consensus")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for name in sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []:
                try:
                    with open(os.path.join(cdir, name)) as f:
                        body = json.loads(json.load(f)["body"])
                except (OSError, ValueError, KeyError):
                    continue
                if {n["name"] for n in body.get("nodes", [])} >= set(self.nodes):
                    self.consensus = body
                    with open(os.path.join(self.dir, "consensus.json"), "w") as f:
                        json.dump(body, f, indent=1, sort_keys=True)
                    return body
            dead = [n for n, rc in self.sup.dead()]
            if dead:
                raise HarnessError(f"{', '.join(dead)} stopped while the network started (see "
                                   f"{self.dir}/*/log)")
            time.sleep(0.2)
        raise HarnessError(f"no consensus listing every node within {seconds} s (see "
                           f"{self.dir}/*/log)")

    def node_addresses(self):
        """node name -> the address in its descriptor (public: it is in the consensus)."""
        out = {}
        for n in self.consensus.get("nodes", []):
            addr = n["address"].split("//", 1)[-1].rsplit(":", 1)[0]
            out[n["name"]] = addr
        return out

    def check_alive(self):
        dead = [f"{n} (exit {rc})" for n, rc in self.sup.dead() if n in self.nodes + ["directory"]]
        if dead:
            raise HarnessError(f"node(s) stopped during the run: {', '.join(dead)} (see "
                               f"{self.dir}/<node>/log)")

    def prune(self):
        """Deletes the nodes' RocksDB stores after the run (keys and logs stay)."""
        for n in self.nodes:
            for sub in ("store", "db"):
                shutil.rmtree(os.path.join(self.dir, n, "data", sub), ignore_errors=True)
