# kwizard lab simulator support -- NOT a real Kubernetes component.
# Stands in for the ports a control plane or kubelet holds (6443, 10250, ...):
# a daemon that accepts TCP connections and closes them. It makes port checks
# real: a second `kubeadm init` finds 6443 taken, `kubeadm join` and kubectl
# reach (or fail to reach) the advertised address over the lab network.
from __future__ import annotations

import os
import selectors
import signal
import socket
import sys
from pathlib import Path

PIDFILE = Path("/run/kwizard-lab-listener.pid")
CONTROL_PLANE_PORTS = (6443, 2379, 2380, 10250, 10257, 10259)
KUBELET_PORTS = (10250,)


def _serve(sockets: list[socket.socket]) -> None:
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            try:
                conn, _ = key.fileobj.accept()
                conn.close()
            except OSError:
                pass


def start(ports: tuple[int, ...]) -> None:
    """Bind now (so the caller sees errors), then serve from a detached grandchild."""
    stop()
    sockets = []
    for port in ports:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
        sock.listen(64)
        sockets.append(sock)
    sys.stdout.flush()
    if os.fork():
        for sock in sockets:
            sock.close()
        os.wait()
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    # Drop every other inherited descriptor (a state lock above all) except the listening sockets.
    keep = sorted(sock.fileno() for sock in sockets)
    low = 3
    for fd in keep + [65536]:
        os.closerange(low, fd)
        low = fd + 1
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    PIDFILE.write_text(str(os.getpid()))
    try:
        _serve(sockets)
    finally:
        os._exit(0)


def stop() -> None:
    try:
        os.kill(int(PIDFILE.read_text()), signal.SIGKILL)
    except (OSError, ValueError):
        pass
    PIDFILE.unlink(missing_ok=True)


def reachable(host: str, port: int, timeout: float = 2.0) -> str | None:
    """None when a TCP connection works, else Go's way of saying why (`connect: connection refused`)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return "connect: connection refused"
    except socket.timeout:
        return "i/o timeout"
    except OSError as error:
        return f"connect: {error.strerror.lower() if error.strerror else error}"
