"""Container runtime sockets: where kubeadm looks for a CRI, in kwizard's order of preference.

Facts look for these on every host; the plan picks the one a host has, and
containerd (the first) when the packages step is to install it.
"""

from __future__ import annotations

# containerd first: it is what the packages step installs.
CRI_SOCKET_PATHS = (
    "/var/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
)

# The form kubeadm takes (--cri-socket, nodeRegistration.criSocket).
CRI_SOCKET_URLS = tuple(f"unix://{path}" for path in CRI_SOCKET_PATHS)


def socket_url(path_or_url: str) -> str:
    """`/run/x.sock` -> `unix:///run/x.sock`; a unix:// URL stays as it is."""
    return path_or_url if path_or_url.startswith("unix://") else f"unix://{path_or_url}"
