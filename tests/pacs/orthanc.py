"""A real Orthanc for the PACS tests: Debian's ``/usr/sbin/Orthanc`` with the DICOMweb plugin,
started from a JSON config written into a temporary folder, on free loopback ports.

Each server has its own AE title, storage and index in its folder, and a modality entry for the
calling AE the tests use (``BEDSIDE`` by default) so C-FIND, C-GET and C-MOVE are answered. The
same folder survives ``stop()``/``kill()``/``restart()``: what Orthanc stored is still there.

Variants the tests need: ``check_called_aet`` (a wrong called AE is refused), ``lua`` (e.g. a
``ReceivedInstanceFilter`` that rejects objects), ``users`` (HTTP basic auth), ``dicom_tls`` (DICOM
over TLS with a self-signed certificate: ``cert_pem`` is the file a client must trust). HTTPS is not
offered: Debian's Orthanc 1.10.1 crashes in civetweb on the first HTTPS request here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.servers import certificate, free_port, key_pem, listens
from tests.waits import WAIT_S

ORTHANC = Path("/usr/sbin/Orthanc")
PLUGINS = Path("/usr/share/orthanc/plugins")
DICOMWEB_PLUGIN = PLUGINS / "libOrthancDicomWeb.so"
START_TIMEOUT_S = 30.0


def missing_reason() -> str | None:
    """Why a real Orthanc cannot run here (None when it can): the tests skip with this text."""
    if not ORTHANC.is_file():
        return f"Orthanc is not installed ({ORTHANC} missing; Debian package 'orthanc')"
    if not DICOMWEB_PLUGIN.is_file():
        return (
            f"the Orthanc DICOMweb plugin is not installed ({DICOMWEB_PLUGIN}; 'orthanc-dicomweb')"
        )
    return None


def self_signed_pem(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``host``: (certificate PEM, private key PEM)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(host))]
    cert = certificate("bedside-test-orthanc", key, None, ca=True, names=names)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / "server-cert.pem"
    key_path = folder / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key_pem(key))
    return cert_path, key_path


@dataclass
class OrthancServer:
    """One Orthanc process over a folder of its own (see the module docstring)."""

    root: Path
    aet: str = "ORTHANC"
    calling_aet: str = "BEDSIDE"
    check_called_aet: bool = False
    lua: str | None = None
    users: dict[str, str] | None = None
    dicom_tls: bool = False
    # with dicom_tls: a client certificate Orthanc requires and trusts (mutual TLS)
    client_cert_pem: Path | None = None
    http_port: int = field(default_factory=free_port)
    dicom_port: int = field(default_factory=free_port)
    cert_pem: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def config_path(self) -> Path:
        return self.root / "orthanc.json"

    @property
    def log_path(self) -> Path:
        return self.root / "orthanc.log"

    def _config(self) -> dict[str, object]:
        config: dict[str, object] = {
            "Name": f"bedside-test-{self.aet}",
            "StorageDirectory": str(self.root / "storage"),
            "IndexDirectory": str(self.root / "index"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": self.aet,
            "DicomCheckCalledAet": self.check_called_aet,
            "DicomCheckModalityHost": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomModalities": {
                "bedside": {
                    "AET": self.calling_aet,
                    "Host": "127.0.0.1",
                    "Port": free_port(),
                    "AllowEcho": True,
                    "AllowFind": True,
                    "AllowGet": True,
                    "AllowMove": True,
                    "AllowStore": True,
                }
            },
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": dict(self.users or {}),
            "HttpTimeout": 30,
            "StableAge": 1,
            "SaveJobs": False,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "StudiesMetadata": "Full"},
            "ConcurrentJobs": 2,
            "HttpThreadsCount": 10,
        }
        if self.lua is not None:
            lua_path = self.root / "filter.lua"
            lua_path.write_text(self.lua, encoding="utf-8")
            config["LuaScripts"] = [str(lua_path)]
        if self.dicom_tls:
            if self.cert_pem is None:
                self.cert_pem, _key = self_signed_pem(self.root / "tls")
            config["DicomTlsEnabled"] = True
            config["DicomTlsCertificate"] = str(self.cert_pem)
            config["DicomTlsPrivateKey"] = str(self.cert_pem.parent / "server-key.pem")
            config["DicomTlsTrustedCertificates"] = str(self.client_cert_pem or self.cert_pem)
            config["DicomTlsRemoteCertificateRequired"] = self.client_cert_pem is not None
        return config

    # -- life cycle ----------------------------------------------------------------------------

    def start(self, timeout_s: float = START_TIMEOUT_S) -> OrthancServer:
        """Write the config and start Orthanc; returns once ``/system`` answers."""
        if self.running:
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self._config(), indent=2), encoding="utf-8")
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                [str(ORTHANC), str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited at start-up:\n{self.log_tail()}")
            try:
                # and its own listener: another process's on a taken port could answer too
                if self.get("/system", timeout=1.0).ok and listens(self._proc.pid, self.http_port):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"Orthanc did not answer /system in {timeout_s} s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout_s: float = WAIT_S) -> None:
        """A clean shutdown (SIGTERM), killed if it does not end in time."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: Orthanc vanishes mid-whatever, as on a power cut."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)
        self._proc = None

    def restart(self) -> OrthancServer:
        """Start again over the same storage, ports and config."""
        self.stop()
        return self.start()

    def remove(self) -> None:
        """Kill it and delete its folder (its storage is thrown away, so no clean stop needed:
        Orthanc's SIGTERM shutdown takes seconds)."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- REST ----------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, data: bytes | str | None = None, timeout: float = 30.0
    ) -> requests.Response:
        """One REST call (with the basic-auth user when the server has users); raises on 4xx/5xx."""
        auth = next(iter(self.users.items())) if self.users else None
        response = requests.request(
            method, f"{self.url}{path}", data=data, timeout=timeout, auth=auth
        )
        response.raise_for_status()
        return response

    def get(self, path: str, *, timeout: float = 10.0) -> requests.Response:
        return self.request("GET", path, timeout=timeout)

    def get_json(self, path: str) -> object:
        return self.get(path).json()

    def sop_instance_uids(self) -> list[str]:
        """Every stored instance's SOP Instance UID (0008,0018), duplicates kept."""
        instances = self.get_json("/instances?expand")
        assert isinstance(instances, list)
        return [str(item["MainDicomTags"]["SOPInstanceUID"]) for item in instances]

    def instance_bytes(self, sop_instance_uid: str) -> bytes:
        """The Part-10 file Orthanc stored for this SOP Instance UID."""
        found = self.request("POST", "/tools/lookup", data=sop_instance_uid)
        ids = [item["ID"] for item in found.json() if item["Type"] == "Instance"]
        assert ids, f"Orthanc has no instance {sop_instance_uid}"
        return self.get(f"/instances/{ids[0]}/file").content

    def upload(self, part10: bytes) -> None:
        """Store a file through Orthanc's own REST API (test setup, not the code under test)."""
        self.request("POST", "/instances", data=part10)

    def clear(self) -> None:
        """Delete every patient: the next test starts from an empty archive."""
        patients = self.get_json("/patients")
        assert isinstance(patients, list)
        for patient in patients:
            self.request("DELETE", f"/patients/{patient}")


def wait_for(predicate: object, *, timeout_s: float = 5.0, interval_s: float = 0.05) -> object:
    """Poll ``predicate()`` until it returns something truthy or the deadline passes; returns the
    last value (falsy on timeout), so the caller's assert shows what was seen."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


class TlsProxy:
    """HTTPS in front of an Orthanc's plain HTTP port (Debian's Orthanc crashes on its own HTTPS
    here): a real TLS server (Python's ssl, the self-signed certificate of ``self_signed_pem``)
    relaying each connection's bytes, for the DICOMweb TLS tests."""

    def __init__(self, folder: Path, target_port: int) -> None:
        import ssl
        import threading

        self.cert_pem, key_pem = self_signed_pem(folder)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(self.cert_pem, key_pem)
        self._target = target_port
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        import threading

        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._relay, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _relay(self, conn: socket.socket) -> None:
        import select
        import ssl

        conn.settimeout(10)
        try:
            tls = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):  # the client refused our certificate: its test's point
            conn.close()
            return
        with tls, socket.create_connection(("127.0.0.1", self._target), timeout=10) as up:
            while not self._stop.is_set():
                ready = [tls] if tls.pending() else []
                if not ready:
                    ready, _, _ = select.select([tls, up], [], [], 0.2)
                try:
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (up if sock is tls else tls).sendall(data)
                except (ssl.SSLError, OSError):
                    return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
