"""Processes and clean-up: everything a run starts is registered here and undone on every exit
path (normal end, error, SIGINT/SIGTERM/SIGHUP).

`Supervisor` is a context manager. Inside it, `start()` launches a process in its own session
(so a signal to the harness does not reach it half-way) and remembers it; `on_cleanup()` adds
an undo action (remove a namespace, stop a client daemon). Leaving the context runs the undo
actions newest first — stopping a started process (SIGTERM, then SIGKILL after a grace period)
is one of them, registered when it starts. Signals are turned into an `Interrupted` exception,
so the same path runs.
Only processes this supervisor started are ever signalled, by their pid."""
import os
import signal
import subprocess
import sys
import time


class Interrupted(Exception):
    pass


class Supervisor:
    def __init__(self, log=print):
        self.procs = []       # (name, Popen, log file)
        self.undo = []        # (description, callable)
        self.log = log
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._old[sig] = signal.signal(sig, self._signal)
        return self

    def _signal(self, signum, _frame):
        # Further signals during clean-up are ignored: clean-up must finish.
        for sig in self._old:
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(f"interrupted by signal {signal.Signals(signum).name}")

    def __exit__(self, *exc):
        for sig in self._old:
            signal.signal(sig, signal.SIG_IGN)
        try:
            self.cleanup()
        finally:
            for sig, old in self._old.items():
                signal.signal(sig, old)
        return False

    def start(self, name, argv, log_path, env=None, cwd=None):
        """Starts argv with stdout+stderr to log_path; returns the Popen."""
        logf = open(log_path, "ab")
        try:
            p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                 start_new_session=True)
        except OSError:
            logf.close()
            raise
        self.procs.append((name, p, logf))
        # Stopped in reverse start order, interleaved with the other undo actions (a process in
        # a namespace stops before the namespace is removed).
        self.on_cleanup(f"stop {name}", lambda: _terminate([p], 5.0))
        return p

    def alive(self, name):
        return any(n == name and p.poll() is None for n, p, _ in self.procs)

    def dead(self):
        """(name, exit code) of every started process that has exited."""
        return [(n, p.returncode) for n, p, _ in self.procs if p.poll() is not None]

    def on_cleanup(self, what, fn):
        self.undo.append((what, fn))

    def stop(self, name, grace_s=5.0, forget=False):
        """Stops the process(es) called name; forget=True also drops them from dead() (a
        process that is restarted under the same name)."""
        for n, p, _ in self.procs:
            if n == name:
                _terminate([p], grace_s)
        if forget:
            for x in [x for x in self.procs if x[0] == name]:
                x[2].close()
                self.procs.remove(x)

    def stop_all(self, names, grace_s=5.0):
        """Stops every process called one of names, all at once."""
        _terminate([p for n, p, _ in self.procs if n in set(names)], grace_s)

    def cleanup(self):
        for what, fn in reversed(self.undo):
            try:
                fn()
            except Exception as e:  # clean-up goes on whatever one step does
                print(f"sotto-adversary: warning: clean-up step '{what}' failed: {e}",
                      file=sys.stderr)
        self.undo.clear()
        _terminate([p for _, p, _ in self.procs], 5.0)
        for _, _, f in self.procs:
            f.close()
        self.procs.clear()


def _terminate(procs, grace_s):
    live = [p for p in procs if p.poll() is None]
    for p in live:
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace_s
    while time.monotonic() < end and any(p.poll() is None for p in live):
        time.sleep(0.05)
    for p in live:
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
            p.wait()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_pid(pid, grace_s=5.0):
    """SIGTERM, then SIGKILL: for a daemon this run started (e.g. a client's daemon.pid)."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace_s
    while time.monotonic() < end:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
