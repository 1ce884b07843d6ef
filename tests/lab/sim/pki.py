# kwizard lab simulator support -- NOT a real Kubernetes tool.
# The simulated kubeadm's real side effects: a CA made with the openssl CLI,
# the CA public-key pin kubeadm prints (sha256 over the DER SubjectPublicKeyInfo),
# and kubeconfig files carrying that CA.
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

PKI = Path("/etc/kubernetes/pki")


def _openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True).stdout


def _newkey_args(algorithm: str) -> list[str]:
    # kubeadm's ClusterConfiguration.encryptionAlgorithm (v1beta4): RSA-2048 unless told otherwise.
    if algorithm.startswith("ECDSA"):
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    bits = algorithm.split("-")[1] if "-" in algorithm else "2048"
    return ["-newkey", f"rsa:{bits}"]


def make_ca(algorithm: str = "RSA-2048") -> None:
    PKI.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", *_newkey_args(algorithm), "-nodes", "-keyout", str(PKI / "ca.key"),
             "-out", str(PKI / "ca.crt"), "-days", "3650", "-subj", "/CN=kubernetes",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign")
    os.chmod(PKI / "ca.key", 0o600)


def client_cert(name: str, algorithm: str, subject: str) -> tuple[bytes, bytes]:
    """A client certificate signed by the CA; returns (cert PEM, key PEM)."""
    key, csr, crt = PKI / f"{name}.key", PKI / f"{name}.csr", PKI / f"{name}.crt"
    _openssl("req", "-new", *_newkey_args(algorithm), "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", subject)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(PKI / "ca.crt"), "-CAkey", str(PKI / "ca.key"),
             "-CAcreateserial", "-days", "365", "-out", str(crt))
    data = crt.read_bytes(), key.read_bytes()
    for path in (key, csr, crt, PKI / "ca.srl"):
        path.unlink(missing_ok=True)
    return data


def make_etcd_pki(algorithm: str = "RSA-2048") -> None:
    """kubeadm's etcd CA and the two etcd clients a backup can use (healthcheck-client, apiserver-etcd-client)."""
    etcd = PKI / "etcd"
    etcd.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", *_newkey_args(algorithm), "-nodes", "-keyout", str(etcd / "ca.key"),
             "-out", str(etcd / "ca.crt"), "-days", "3650", "-subj", "/CN=etcd-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign")
    for folder, name, subject in ((etcd, "healthcheck-client", "/CN=kube-etcd-healthcheck-client"),
                                  (PKI, "apiserver-etcd-client", "/CN=kube-apiserver-etcd-client")):
        key, csr, crt = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
        _openssl("req", "-new", *_newkey_args(algorithm), "-nodes", "-keyout", str(key), "-out", str(csr),
                 "-subj", subject)
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(etcd / "ca.crt"), "-CAkey", str(etcd / "ca.key"),
                 "-CAcreateserial", "-days", "365", "-out", str(crt))
        csr.unlink()
        os.chmod(key, 0o600)
    (etcd / "ca.srl").unlink(missing_ok=True)
    os.chmod(etcd / "ca.key", 0o600)


def ca_hash(ca_pem: bytes) -> str:
    """kubeadm's --discovery-token-ca-cert-hash value for this CA."""
    public_pem = _openssl("x509", "-pubkey", "-noout", input=ca_pem)
    der = _openssl("pkey", "-pubin", "-outform", "der", input=public_pem)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def kubeconfig(server: str, ca_pem: bytes, user: str, cert: bytes | None = None, key: bytes | None = None,
               cert_file: str | None = None) -> str:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    if cert is not None:
        credentials = f"    client-certificate-data: {b64(cert)}\n    client-key-data: {b64(key)}\n"
    else:
        credentials = f"    client-certificate: {cert_file}\n    client-key: {cert_file}\n"
    return (
        "apiVersion: v1\nclusters:\n- cluster:\n"
        f"    certificate-authority-data: {b64(ca_pem)}\n    server: {server}\n  name: kubernetes\n"
        f"contexts:\n- context:\n    cluster: kubernetes\n    user: {user}\n  name: {user}@kubernetes\n"
        f"current-context: {user}@kubernetes\nkind: Config\npreferences: {{}}\n"
        f"users:\n- name: {user}\n  user:\n{credentials}"
    )


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)
