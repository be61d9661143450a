"""The adversary harness of Sotto (issue 9): runs a real testnet with real `sotto` clients,
drives a workload read from a sotto-sim scenario, records every link as a global passive
observer would, and scores attacks against ground truth taken from the recording nodes and the
clients. Entry point: adversary/sotto-adversary; module map and attack interface in
adversary/README.md. Python 3 standard library only (Debian's /usr/bin/python3)."""
