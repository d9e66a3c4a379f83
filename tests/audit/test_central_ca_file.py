"""The department audit store against a REAL PostgreSQL 15 when ``audit_central.ca_file`` can
be changed by other accounts: whoever can write it picks the server Bedside takes for the
store, so no connection is made with it (``viewer.paths.ca_file_problem``), the forwarding
status says why, the rows wait in the outbox, and once IT fixes the permissions they go out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.audit.central_helpers import central_rows, set_up, workstation
from tests.audit.helpers import fill
from tests.audit.pg_cluster import PgCluster
from tests.pacs.orthanc import self_signed_pem
from viewer.audit import AuditLog
from viewer.audit.central import CentralError, forward_central
from viewer.config import load_settings
from viewer.outbox import Backoff
from viewer.paths import ca_file_problem
from viewer.session.forwarding_status import ForwardingStatus, state_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX")

NOW = Backoff(first_s=0.0)


def test_a_ca_file_others_can_change_is_never_used_and_the_rows_wait(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    schema = "ca_file_check"
    plain = workstation(tmp_path / "ws", pg_cluster, schema)
    set_up(plain)
    ca, _key = self_signed_pem(tmp_path / "pki")
    ca.chmod(0o666)
    # the test server speaks no TLS (sslmode disable): the refusal comes before any connection
    site = plain.site_file
    assert site is not None
    site.write_text(site.read_text(encoding="utf-8") + f'ca_file = "{ca}"\n', encoding="utf-8")
    settings = load_settings(
        env={"BEDSIDE_DATA_DIR": str(plain.data_dir), "BEDSIDE_SITE_CONFIG": str(site)}
    )
    sentence = ca_file_problem(ca, "audit_central.ca_file")
    assert sentence is not None and "is writable by other users" in sentence
    with AuditLog.open(settings) as log:
        fill(log, 3)
    result = forward_central(settings, backoff=NOW)
    assert (result.sent, result.error, result.waiting) == (0, sentence, 3)
    assert central_rows(pg_cluster, schema) == []
    with pytest.raises(CentralError) as refused:  # `bedside audit central setup` too
        set_up(settings)
    assert str(refused.value) == sentence
    (state,) = ForwardingStatus(settings).poll()
    assert (state.kind, state.waiting, state.error) == ("failing", 3, sentence)
    assert state_text(state).endswith(f" — {sentence}")

    ca.chmod(0o644)
    result = forward_central(settings, backoff=NOW)
    assert (result.sent, result.error, result.waiting) == (3, None, 0)
    assert [row[1] for row in central_rows(pg_cluster, schema)] == [1, 2, 3]
