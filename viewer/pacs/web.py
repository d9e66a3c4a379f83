"""DICOMweb with dicomweb-client over one ``requests`` session: STOW-RS (PS3.18 10.5), QIDO-RS
(10.6) and WADO-RS (10.4), with the site's authentication (HTTP basic, RFC 7617, or a bearer
token, RFC 6750, read from a file), CA bundle and client certificate.

Retries are the outbox's (with backoff across restarts), so the client's own are off. A STOW
answered 409 Conflict or 4xx with a Failed SOP Sequence (0008,1198) is PACS refusing the object:
:class:`~viewer.pacs.connection.PacsRejectedError`; 5xx, timeouts and unreachable hosts are
plain :class:`~viewer.pacs.connection.PacsError`, retried later. 401/403 is a configuration
problem (wrong credentials), kept pending too, since fixing the secret file makes it go through.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset
from requests.adapters import HTTPAdapter

from viewer.pacs.connection import (
    PacsCancelledError,
    PacsError,
    PacsRejectedError,
    PacsTarget,
    write_instance,
)

__all__ = ["client", "retrieve_study", "search_studies", "store"]

_FAILED_SOP_SEQUENCE = "00081198"
_FAILURE_REASON = "00081197"
# PS3.18 Table 10.5.3-1 / PS3.4 B.2.3 failure reasons a person can act on
_REASONS = {
    0x0110: "processing failure",
    0x0122: "PACS does not support this kind of object",
    0x0124: "not authorised",
    0xA700: "PACS is out of resources",
    0xA900: "the object does not match its SOP class",
    0xC000: "PACS cannot understand the object",
    0xC122: "the referenced transfer syntax is not supported",
}


class _SiteTrust(HTTPAdapter):
    """HTTPS trusting exactly the site's CA bundle. ``Session.verify`` alone is not enough:
    requests lets $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE override it for every request
    (psf/requests#3829), so a workstation with either set would ignore pacs.ca_bundle."""

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self._ca_bundle
        return super().send(request, *args, **kwargs)


def _session(target: PacsTarget) -> requests.Session:
    s = target.section
    session = requests.Session()
    if s.ca_bundle:
        session.verify = s.ca_bundle
        session.mount("https://", _SiteTrust(s.ca_bundle))
    if s.client_cert:
        session.cert = (s.client_cert, s.client_key)
    if s.auth == "basic":
        session.auth = (s.username, target.secret())
    elif s.auth == "bearer":
        session.headers["Authorization"] = f"Bearer {target.secret()}"
    return session


def client(target: PacsTarget, *, timeout_s: float | None = None) -> Any:
    """A ``dicomweb_client.DICOMwebClient`` for the site's URL (retries off: the outbox's)."""
    from dicomweb_client import DICOMwebClient

    target.require_dicomweb()
    s = target.section
    read = s.timeout_s if timeout_s is None else timeout_s
    connect = s.connect_timeout_s if timeout_s is None else min(s.connect_timeout_s, timeout_s)
    try:
        web = DICOMwebClient(target.dicomweb_url, session=_session(target), timeout=(connect, read))
    except ValueError as exc:
        raise PacsError(
            f"pacs.dicomweb_url {target.dicomweb_url!r} is not a usable address ({exc})."
        ) from exc
    web.set_http_retry_params(retry=False)
    return web


def _where(target: PacsTarget) -> str:
    return f"PACS at {target.dicomweb_url}"


@contextmanager
def _http(target: PacsTarget, what: str, *, not_found: str | None = None) -> Iterator[None]:
    """Turn whatever ``requests`` raises into one sentence about ``what`` (``not_found``: the
    sentence for a 404, when it means the thing asked for rather than a wrong address)."""
    where = _where(target)
    try:
        yield
    except requests.exceptions.SSLError as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            raise PacsError(
                f"The certificate of {where} is not trusted: give its CA in pacs.ca_bundle."
            ) from exc
        raise PacsError(
            f"The TLS connection to {where} failed during {what}: is the address right "
            "(https:// for a TLS port)?"
        ) from exc
    except requests.exceptions.ConnectTimeout as exc:
        raise PacsError(f"{where} did not answer within the connect timeout ({what}).") from exc
    except requests.exceptions.ReadTimeout as exc:
        raise PacsError(f"{where} accepted {what} but did not answer in time.") from exc
    except requests.exceptions.ConnectionError as exc:
        raise PacsError(
            f"{where} cannot be reached ({what}): it is down, or the address is wrong."
        ) from exc
    except requests.exceptions.HTTPError as exc:
        response = exc.response
        code = response.status_code if response is not None else 0
        if code in (401, 403):
            raise PacsError(
                f"{where} refused the credentials for {what} (HTTP {code}): check pacs.auth, "
                "pacs.username and the secret file."
            ) from exc
        if code == 404 and not_found is not None:
            raise PacsError(f"{where} {not_found} (HTTP 404).") from exc
        if code == 404:
            raise PacsError(
                f"{where} has no DICOMweb service at that address (HTTP 404 for {what}): "
                "check pacs.dicomweb_url."
            ) from exc
        raise PacsError(f"{where} answered HTTP {code} to {what}.") from exc
    except requests.exceptions.RequestException as exc:
        raise PacsError(f"{where} could not complete {what}: {type(exc).__name__}.") from exc


def _failed_reasons(response: requests.Response | None) -> list[str]:
    """The Failure Reasons (0008,1197) of a STOW-RS response's Failed SOP Sequence."""
    if response is None:
        return []
    try:
        body = response.json()
    except ValueError:
        return []
    items = body.get(_FAILED_SOP_SEQUENCE, {}).get("Value", []) if isinstance(body, dict) else []
    reasons = []
    for item in items:
        values = item.get(_FAILURE_REASON, {}).get("Value", []) if isinstance(item, dict) else []
        code = int(values[0]) if values and isinstance(values[0], int) else None
        text = _REASONS.get(code or -1, "refused")
        reasons.append(f"{text} (0x{code:04X})" if code is not None else text)
    return reasons


def store(target: PacsTarget, objects: Sequence[bytes]) -> None:
    """STOW-RS of Part-10 objects in one request. A 409 or 4xx naming failed instances (or 400
    bad request) is :class:`PacsRejectedError`; every instance stored on 200 or 202."""
    datasets = [dcmread(BytesIO(part10)) for part10 in objects]
    web = client(target)
    try:
        with _http(target, "the upload (STOW-RS)"):
            answer = web.store_instances(datasets)
    except PacsError as exc:
        cause = exc.__cause__
        response = getattr(cause, "response", None)
        code = response.status_code if response is not None else 0
        reasons = _failed_reasons(response)
        if code in (400, 409, 413, 415) or (reasons and 400 <= code < 500):
            detail = "; ".join(reasons) or f"HTTP {code}"
            raise PacsRejectedError(f"{_where(target)} refused the object: {detail}.") from exc
        raise
    # PS3.18 10.5.3: the Referenced SOP Sequence lists what was stored. An object missing from
    # it was not stored, even on 200 (Orthanc answers so when a filter refuses an instance).
    failed = list(getattr(answer, "FailedSOPSequence", []) or []) if answer is not None else []
    stored = {
        str(item.get("ReferencedSOPInstanceUID", ""))
        for item in (getattr(answer, "ReferencedSOPSequence", []) or [])
    }
    missing = [ds for ds in datasets if str(ds.SOPInstanceUID) not in stored]
    if failed or missing:
        count = max(len(failed), len(missing))
        noun = "object" if count == 1 else f"{count} objects"
        raise PacsRejectedError(
            f"{_where(target)} did not store the {noun} (its answer lists "
            f"{'it' if count == 1 else 'them'} as failed or not stored)."
        )


def search_studies(
    target: PacsTarget,
    filters: dict[str, str],
    *,
    fields: Sequence[str] = (),
    limit: int | None = None,
    timeout_s: float | None = None,
) -> list[Dataset]:
    """QIDO-RS at study level; each answer as a pydicom Dataset (PS3.18 F.2 DICOM JSON)."""
    web = client(target, timeout_s=timeout_s)
    with _http(target, "the search (QIDO-RS)"):
        found = web.search_for_studies(
            search_filters=filters or None, fields=list(fields) or None, limit=limit
        )
    out = []
    for item in found:
        try:
            out.append(Dataset.from_json(json.dumps(item)))
        except (ValueError, TypeError, KeyError) as exc:
            raise PacsError(
                f"{_where(target)} sent a search answer that is not DICOM JSON."
            ) from exc
    return out


def _save(ds: Dataset, out: BinaryIO) -> None:
    ds.save_as(out, enforce_file_format=True)


def retrieve_study(
    target: PacsTarget,
    study_uid: str,
    dest_dir: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Path]:
    """WADO-RS of one study into ``dest_dir``, each instance as ``<SOPInstanceUID>.dcm`` in the
    transfer syntax PACS holds it in (``transfer-syntax=*``: nothing re-compressed)."""
    web = client(target)
    dest_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with _http(target, "the retrieval (WADO-RS)", not_found="has no study with this UID"):
        for ds in web.iter_study(study_uid, media_types=(("application/dicom", "*"),)):
            if cancel is not None and cancel():
                raise PacsCancelledError("The retrieval was cancelled.")
            path = write_instance(dest_dir, str(ds.SOPInstanceUID), partial(_save, ds))
            written.append(path)
            if progress is not None:
                progress(len(written), 0)
    return written
