"""The attack interface. One module per attack in this package; each defines a subclass of
`Attack` and registers it with `@register`.

An attack runs in two steps, so that ground truth can never leak into what the adversary
concludes:

1. `observe(view) -> dict` sees only what that adversary sees. `view` is an `ObserverView`
   (the passive observer: link events from the capture, the public host table and roles, the
   consensus' public parameters) or a `CorruptView` (the same, plus the recordings of the nodes
   the adversary controls — exactly what a corrupt node sees). The result is JSON-serialisable:
   typically per-observation sender distributions (`{"beliefs": {key: [p_0, ..., p_N-1]}}`
   over the clients in index order) or a statistic per observation.
2. `score(observation, truth, run) -> list of rows` compares that with the ground truth
   (`truth.Truth`: every message's sender, recipient, path and the capture events of its hops;
   every fetch's content). Truth is used only here, and for beliefs only to pick WHICH
   observation is the one that carried a given message.

A row is a dict with at least: `adversary`, `measure`, `n`, `success`, `success_ci`,
`chance`, and where they apply `entropy_mean`, `entropy_ci`, `auc`, `auc_ci`, `sim_entropy`,
`notes`; `score.py` adds `configuration`, `commit`, `command` and the run folder. Keys that
start with "_" (per-sample data, e.g. `_samples`) are kept in RUN/results/NAME.json and left
out of the table rows. The helpers
in `scoring.py` turn (true sender, distribution) pairs into such rows with their intervals.

`needs` lists what the attack needs ("capture", "recordings", "truth"); `applicable(run)`
says whether a run folder has it (a loopback run has no capture), with the reason if not."""

REGISTRY = {}


def register(cls):
    REGISTRY[cls.name] = cls()
    return cls


class Attack:
    name = "?"
    summary = "?"
    needs = {"capture", "truth"}

    def applicable(self, run):
        if "capture" in self.needs and not run.has_capture:
            return False, "no capture (the run was not on namespaces as root)"
        if "recordings" in self.needs and not run.has_recordings:
            return False, "no recordings (the recording node was not built)"
        return True, ""

    def corrupt(self, info, view):
        """The nodes whose recordings this adversary holds: `info` is the run's run.json,
        `view` the observer's view (cascade, providers). The default view() gives them."""
        return []

    def view(self, base, run):
        """The adversary's view: the observer's by default. An attack with corrupt nodes
        returns CorruptView(base, {node: run.recordings()[node] for node in its corrupt set})
        — the recordings of those nodes only (the default does that for corrupt())."""
        nodes = self.corrupt(run.info, base)
        return run.corrupt_view(nodes) if nodes else base

    def observe(self, view):
        raise NotImplementedError

    def score(self, observation, truth, run):
        raise NotImplementedError


class ObserverView:
    """What the global passive observer has: every link's events, nothing else."""

    def __init__(self, events, hosts, roles, clients, cascade, params):
        self.events = events        # link events (linkevents.py), sorted by time
        self.hosts = hosts          # host name -> address
        self.roles = roles          # host name -> directory | mix | provider | client
        self.clients = clients      # client host names, in client index order
        self.cascade = cascade      # mix names, layer 1 first (from the consensus)
        self.params = params        # the consensus' network parameters (public)

    @property
    def providers(self):
        return sorted(n for n, r in self.roles.items() if r == "provider")


class CorruptView(ObserverView):
    """The observer's view plus the recordings of the corrupt nodes (what they see)."""

    def __init__(self, base, recordings, node_flags=None, flood=None, hold=None):
        super().__init__(base.events, base.hosts, base.roles, base.clients, base.cascade,
                         base.params)
        self.recordings = recordings  # node name -> list of recording events
        self.node_flags = node_flags or {}  # the misbehaviour each node was told (run.json)
        self.flood = flood or {}      # the attacker client: provider, rate, mailbox, sent
        self.hold = hold              # n-1: which clients the providers let through
