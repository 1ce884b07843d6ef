"""kwizard's side of the fan-out benchmark: gather the facts of every host of a profile, once.

    python -m bench.facts_once PROFILE

Started as its own process by bench.fanout, so its wall time includes what a
user's `kwizard` pays too: the interpreter, the imports, opening every SSH
connection (host keys checked against the profile's known_hosts), sudo, the
facts script and parsing the answers. Prints one JSON line: the hosts that
answered and the seconds `gather_facts` itself took. Exit 1 if any host failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


def main(argv: list[str]) -> int:
    from kwizard.facts.model import HostFacts
    from kwizard.facts.gather import gather_facts
    from kwizard.profile.store import load

    profile = load(argv[0])
    start = time.perf_counter()
    # ssh_config=[]: no ~/.ssh/config, as the OpenSSH-based tools get `-F /dev/null`.
    results = asyncio.run(gather_facts(profile, ssh_config=[]))
    gather_seconds = time.perf_counter() - start
    failed = {name: str(r) for name, r in results.items() if not isinstance(r, HostFacts)}
    print(json.dumps({"hosts": len(results), "failed": failed, "gather_seconds": gather_seconds}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
