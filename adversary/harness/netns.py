"""Hosts of the testnet: one network namespace per node and per client on a bridge (as root),
or everything on loopback (otherwise).

Names are the harness's own so that it never collides with scripts/testnet.sh (sottobr0,
10.77.0.0/24, namespaces sotto-*): bridge `sadvbr0`, subnet 10.78.0.0/24 (the host side is
10.78.0.1), namespaces `sadv-<host>`, host-side veths `sadv-v<last octet>`. `configure()`
(the options --netns-prefix and --subnet) changes the prefix and the subnet, so that two runs
can share a machine. Addresses: the
directory .2, then the mixes and providers, clients from .32 on. Every namespace, veth and the
bridge are removed on every exit path (the Supervisor's undo list), and `remove_all()` removes
leftovers of a run that was killed (`sotto-adversary cleanup`)."""
import os
import subprocess

from .errors import HarnessError

BRIDGE = "sadvbr0"
PREFIX = "sadv-"
SUBNET = "10.78.0"
FIRST_CLIENT_OCTET = 32


def configure(prefix="sadv", subnet="10.78.0"):
    """Sets the names and the /24 of this process's hosts (prefix: 1-6 of [a-z0-9])."""
    global BRIDGE, PREFIX, SUBNET
    import re
    if not re.fullmatch(r"[a-z][a-z0-9]{0,5}", prefix):
        raise HarnessError(f"--netns-prefix '{prefix}': 1 to 6 lower-case letters and digits, "
                           "starting with a letter (interface names are at most 15 bytes)",
                           usage=True)
    parts = subnet.split(".")
    if len(parts) != 3 or not all(p.isdigit() and 0 <= int(p) <= 255 for p in parts):
        raise HarnessError(f"--subnet '{subnet}': the first three numbers of a /24, e.g. "
                           "10.78.0", usage=True)
    BRIDGE, PREFIX, SUBNET = prefix + "br0", prefix + "-", subnet


def is_root():
    return os.geteuid() == 0


def _ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise HarnessError(f"'ip {' '.join(args)}' failed: {r.stderr.strip()}")
    return r


def existing_namespaces():
    r = _ip("netns", "list", check=False)
    return [line.split()[0] for line in r.stdout.splitlines()
            if line.split() and line.split()[0].startswith(PREFIX)]


def bridge_exists():
    return _ip("link", "show", BRIDGE, check=False).returncode == 0


def remove_all():
    """Removes every sadv- namespace and veth, and the bridge. Returns what it removed."""
    removed = []
    for ns in existing_namespaces():
        _ip("netns", "del", ns, check=False)
        removed.append(f"namespace {ns}")
    r = _ip("-o", "link", "show", check=False)
    for line in r.stdout.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            name = parts[1].strip().split("@")[0]
            if name.startswith(PREFIX + "v"):
                _ip("link", "del", name, check=False)
                removed.append(f"veth {name}")
    if bridge_exists():
        _ip("link", "del", BRIDGE, check=False)
        removed.append(f"bridge {BRIDGE}")
    return removed


class Hosts:
    """Where each host lives. mode 'netns': own namespace and address; 'loopback': 127.0.0.1."""

    def __init__(self, mode, names):
        self.mode = mode
        self.names = list(names)
        self.addr = {}
        octet = 2
        client_octet = FIRST_CLIENT_OCTET
        for n in self.names:
            if mode == "loopback":
                self.addr[n] = "127.0.0.1"
            elif n.startswith("c") and n[1:].isdigit():
                self.addr[n] = f"{SUBNET}.{client_octet}"
                client_octet += 1
            else:
                self.addr[n] = f"{SUBNET}.{octet}"
                octet += 1
        if client_octet > 254 or octet >= FIRST_CLIENT_OCTET:
            raise HarnessError("too many hosts for 10.78.0.0/24")

    def ns(self, name):
        return PREFIX + name

    def prefix(self, name):
        """argv prefix that runs a command on host `name`."""
        return ["ip", "netns", "exec", self.ns(name)] if self.mode == "netns" else []

    def as_dict(self):
        """address -> host name (what an observer of the network can label: one host per
        address). Loopback has one address for everyone, so it is empty there."""
        if self.mode != "netns":
            return {}
        return {a: n for n, a in self.addr.items()}

    def setup(self, sup):
        if self.mode != "netns":
            return
        if not is_root():
            raise HarnessError("network namespaces need root (run as root, or use --loopback)")
        if bridge_exists() or existing_namespaces():
            raise HarnessError(f"{BRIDGE} or sadv-* namespaces already exist: another "
                               "sotto-adversary run is active, or one was killed (remove the "
                               "leftovers with: adversary/sotto-adversary cleanup)")
        sup.on_cleanup("remove the bridge", lambda: _ip("link", "del", BRIDGE, check=False))
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for n in self.names:
            ns = self.ns(n)
            veth = PREFIX + "v" + self.addr[n].rsplit(".", 1)[1]
            sup.on_cleanup(f"remove namespace {ns}",
                           lambda ns=ns: _ip("netns", "del", ns, check=False))
            sup.on_cleanup(f"remove veth {veth}",
                           lambda veth=veth: _ip("link", "del", veth, check=False))
            _ip("netns", "add", ns)
            _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("link", "set", veth, "master", BRIDGE, "up")
            _ip("-n", ns, "addr", "add", f"{self.addr[n]}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
