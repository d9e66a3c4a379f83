"""The site drift monitor (issue 15, item 3), Qt-free: is the model still working here?

No ground truth reaches a workstation, so the monitor uses what the audit log holds: the
inputs (``image_opened``), the scores and refusals (``ai_result_shown``) and the clinicians'
decisions. Per model version, over a window of days or cases, it compares scores and input mix
with the bundle's reference profile and follows rates on p-charts (:mod:`.monitor` says which
tests and why). Statistics are numpy only (:mod:`.stats`); scipy is a test dependency.

Layer: below the session and the faces, above ``viewer.bundle`` (it reads the reference from a
bundle's manifest) and ``viewer.audit`` (it reads rows and appends ``monitor_alert`` rows).
"""

from viewer.monitoring.cases import ModelStreams, Stream, streams_from_records
from viewer.monitoring.monitor import ModelReport, MonitorConfig, WindowSpec, monitor_model
from viewer.monitoring.profile import Histogram, ReferenceProfile
from viewer.monitoring.report import find_references, monitor_log, record_alerts

__all__ = [
    "Histogram",
    "ModelReport",
    "ModelStreams",
    "MonitorConfig",
    "ReferenceProfile",
    "Stream",
    "WindowSpec",
    "find_references",
    "monitor_log",
    "monitor_model",
    "record_alerts",
    "streams_from_records",
]
