"""What every test that starts a real server (Orthanc, PostgreSQL, rsyslog, a TLS proxy) needs
first: a loopback port to give it, and for TLS its certificates."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["PORT_TRIES", "certificate", "free_port", "key_pem", "listens"]

PORT_TRIES = 5  # fresh ports a server start tries when the one it was given is taken


_HELD: list[socket.socket] = []  # one bound socket per port handed out, the latest HOLD_AT_MOST
HOLD_AT_MOST = 256  # far more than the servers alive at once; inside a 1024-descriptor limit


def free_port() -> int:
    """A loopback TCP port for a test's server (or for nobody, to be refused), held from now on
    (the latest ``HOLD_AT_MOST``): a bound, never listening socket with SO_REUSEADDR.

    A port that was only free when asked (bind, close, return) could be taken before its server
    bound it, seconds later for a server a test starts late: by an outgoing connection's
    ephemeral port (the kernel's port-0 picks come from the same range) or another test run's
    pick. While held, the kernel gives the port to neither, and Orthanc (HTTP and DICOM),
    rsyslogd and PostgreSQL, which all bind with SO_REUSEADDR, still bind and listen on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    if len(_HELD) > HOLD_AT_MOST:  # a port handed out that long ago has long been bound or dropped
        _HELD.pop(0).close()
    return int(sock.getsockname()[1])


@atexit.register
def _release() -> None:
    for sock in _HELD:
        sock.close()


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on 127.0.0.1:``port`` or on every
    address at that port (Orthanc's), from Linux's /proc.

    A port can still be taken when a server binds it (one given explicitly, another process
    binding with SO_REUSEADDR). Orthanc then exits, but rsyslogd only logs "Could not create tcp
    listener" and runs on, and a probe would reach the other process's listener: a start counts
    only once the listener is the server's own."""
    wanted = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}  # loopback, or every address
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        if fields[1] in wanted and fields[3] == "0A":  # 0A: TCP_LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # it exited meanwhile
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:  # that file closed meanwhile
            continue
    return False


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The unencrypted PEM of a test key (Orthanc, rsyslog and Python's ssl all read it)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    names: list[x509.GeneralName] | None = None,
    usage: list[x509.ObjectIdentifier] | None = None,
) -> x509.Certificate:
    """A test certificate for ``subject``, signed by ``issuer`` (name, key) or self-signed;
    valid from 5 minutes ago for 2 days; ``names`` its subjectAltName (what a client checks)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())
