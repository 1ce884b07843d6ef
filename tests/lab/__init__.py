"""The lab: real sshd hosts in Linux namespaces on this one machine, for kwizard to set up.

    with start_lab(3) as lab:
        lab.hosts[0].address, lab.client_key, lab.known_hosts, lab.profile()
"""

from .hosts import LabHost
from .lab import Lab, reap_stale, start_lab
from .requirements import lab_unavailable_reason, require_lab
from .scenario import HostOptions, Scenario

__all__ = ["Lab", "LabHost", "HostOptions", "Scenario", "start_lab", "reap_stale", "require_lab",
           "lab_unavailable_reason"]
