"""The global passive observer's recorder: every frame that crosses the bridge, full snaplen.

`tcpdump -i sadvbr0 -s 0 -w RUN/links.pcap tcp` (as root; the bridge is put in promiscuous mode
by tcpdump, so frames forwarded between two namespaces are passed up to it as well). It starts
before any node so that every TCP connection is captured from its SYN and ZMTP greeting — the
framing the observer parses. The recorder never sees more than a network would carry: every
link between two hosts of the testnet crosses the bridge. On loopback there is no observer
(capturing lo needs root too, and one address for all hosts would hide who is who)."""
import os
import re
import shutil
import time

from . import netns
from .errors import HarnessError


def tcpdump_path():
    return shutil.which("tcpdump") or ("/usr/bin/tcpdump" if os.path.exists("/usr/bin/tcpdump")
                                       else None)


class Capture:
    def __init__(self, run_dir, sup):
        self.pcap = os.path.join(run_dir, "links.pcap")
        self.err = os.path.join(run_dir, "tcpdump.log")
        self.sup = sup
        self.proc = None
        self.stats = {}

    def start(self):
        tcpdump = tcpdump_path()
        if tcpdump is None:
            raise HarnessError("tcpdump is not installed (apt-get install tcpdump; ./run.sh "
                               "deps installs it)")
        # -U: write each packet at once (nothing is lost if we are killed); --immediate-mode:
        # no batching in the kernel, so the last packets are not left behind when it stops;
        # -B: a 64 MiB kernel buffer so bursts are not dropped while the 2-core machine is busy;
        # -Z root: keep the right to write into the run folder.
        argv = [tcpdump, "-i", netns.BRIDGE, "-s", "0", "-U", "--immediate-mode", "-B",
                "65536", "-n", "-Z", "root", "-w", self.pcap, "tcp"]
        self.proc = self.sup.start("tcpdump", argv, self.err)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise HarnessError(f"tcpdump stopped at once (see {self.err})")
            with open(self.err, errors="replace") as f:
                if "listening on" in f.read():
                    return
            time.sleep(0.05)
        raise HarnessError(f"tcpdump did not start listening within 10 s (see {self.err})")

    def stop(self):
        """Stops tcpdump and returns its counters (captured, received, dropped by kernel)."""
        if self.proc is None:
            return self.stats
        time.sleep(1.0)  # the nodes' last frames (FINs) are still crossing the bridge
        self.sup.stop("tcpdump", grace_s=10)
        with open(self.err, errors="replace") as f:
            text = f.read()
        for key, pattern in (("captured", r"(\d+) packets captured"),
                             ("received", r"(\d+) packets received by filter"),
                             ("dropped_by_kernel", r"(\d+) packets dropped by kernel")):
            m = re.search(pattern, text)
            if m:
                self.stats[key] = int(m.group(1))
        self.proc = None
        return self.stats
