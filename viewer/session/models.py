"""The one model policy: which bundle scores a patient's image, for the window and every command.

Why one place: which model runs is a clinical-safety decision, and the window, ``bedside infer``
and ``bedside self-check`` used to decide it three ways (the demo window always ran the demo
bundle while ``--demo infer`` preferred the store). Now, in this order:

1. an explicit bundle file (``infer --bundle FILE``, ``self-check``): verified against the trust
   store and self-tested;
2. an explicit model id (``infer --model ID``): that model's active version in the store, or a
   clear refusal;
3. the store's most recently activated model (checked against the store's record in the same
   read as it is loaded: a file swapped in the store is refused, never run);
4. in demo mode only, the shipped demo bundle (its key is trusted only in demo mode);
5. otherwise :class:`NoModelError`.

Every load and refusal is recorded by the bundle layer in the audit log it is given
(``bundle_verified`` / ``bundle_refused``). Importing this module imports neither torch nor Qt;
:func:`open_model` imports torch (through the bundle layer) when it runs, so callers run it off
the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from viewer.config import Settings
from viewer.errors import BedsideError

if TYPE_CHECKING:
    from viewer.bundle.audit_hook import AuditSink
    from viewer.bundle.loader import LoadedBundle
    from viewer.bundle.trust import TrustStore
    from viewer.inference.engine import ThreadSetting
    from viewer.inference.predict import Predictor

__all__ = [
    "DEMO_MODEL_WARNING",
    "ModelSource",
    "NoModelError",
    "OpenModel",
    "demo_bundle_path",
    "open_model",
]

ModelSource = Literal["file", "store", "demo"]

DEMO_MODEL_WARNING = (
    "DEMO MODEL — NOT FOR CLINICAL USE: it was trained on synthetic images, so its output on "
    "real X-rays is meaningless."
)


class NoModelError(BedsideError):
    """No model can score: none installed and active (or the named one is not), or the demo
    bundle is missing. ``code`` lets a window say it in the reader's language."""

    def __init__(
        self,
        message: str,
        *,
        code: Literal["no_active", "not_installed", "demo_missing", "engine"],
        path: str | Path | None = None,
    ) -> None:
        self.code = code
        super().__init__(message, path=path)


@dataclass(frozen=True)
class OpenModel:
    """A verified, self-tested bundle and the predictor that scores with it."""

    loaded: LoadedBundle
    predictor: Predictor
    source: ModelSource

    @property
    def label(self) -> str:
        """``id version`` as the status bar and the audit report name it."""
        return f"{self.loaded.manifest.id} {self.loaded.manifest.version}"


def demo_bundle_path() -> Path:
    """``resources/demo/demo-cxr.bundle`` (source checkout or frozen app)."""
    from viewer.bundle.resources import DEMO_BUNDLE, resource_path

    return resource_path(*DEMO_BUNDLE)


def open_model(
    settings: Settings,
    *,
    audit: AuditSink | None = None,
    bundle: str | Path | None = None,
    model_id: str | None = None,
    threads: ThreadSetting | None = None,
    trust: TrustStore | None = None,
    mark: Callable[[str], None] | None = None,
) -> OpenModel:
    """Choose, verify, load and self-test the model (the policy above); raises BedsideError.

    ``threads``: torch threads, a count or ``"auto"`` (default: the ``inference.threads``
    setting). ``mark`` receives named moments for the launch benchmark ("torch_imported",
    "model_loaded").
    """
    note = mark or (lambda _name: None)
    try:
        import torch  # noqa: F401  (seconds: the named moment below measures it)

        note("torch_imported")
        from viewer.bundle.loader import load_bundle
        from viewer.bundle.store import ModelStore
        from viewer.bundle.trust import TrustStore
        from viewer.inference.postprocess import SiteThreshold
        from viewer.inference.predict import Predictor
    except Exception as exc:  # a damaged install: "Unexpected internal error (ImportError ...)"
        raise NoModelError(
            f"The AI engine (PyTorch) cannot be loaded: {type(exc).__name__}: {exc}. This "
            "installation is damaged; reinstall Bedside. Images can still be read; no AI "
            "result is shown.",
            code="engine",
        ) from exc

    note("modules_imported")
    trust = trust if trust is not None else TrustStore.from_settings(settings)
    source: ModelSource
    if bundle is not None:
        loaded, source = load_bundle(Path(bundle), trust, audit=audit), "file"
    else:
        stored = ModelStore(settings, audit, trust=trust).load_active(model_id)
        if stored is not None:
            loaded, source = stored, "store"
        elif model_id:
            raise NoModelError(
                f"No version of model '{model_id}' is installed and active. "
                "See `bedside bundle list`, or pass --bundle FILE.",
                code="not_installed",
            )
        elif settings.demo:
            path = demo_bundle_path()
            if not path.is_file():
                raise NoModelError(
                    f"The demo model bundle is missing from this installation ({path}); "
                    "run 'make demo-bundle'.",
                    code="demo_missing",
                    path=path,
                )
            loaded, source = load_bundle(path, trust, audit=audit), "demo"
        else:
            raise NoModelError(
                "No model is installed and active. IT can install one in Tools > Model manager "
                "or with `bedside bundle install FILE`.",
                code="no_active",
            )
    site: dict[str, SiteThreshold] = {}
    if source == "store":  # a site amendment applies to its own stored bundle only
        from viewer.session.site_thresholds import site_overrides

        m = loaded.manifest
        site = site_overrides(ModelStore(settings, trust=trust), m.id, m.version, loaded.digest)
    predictor = Predictor(
        loaded, threads=threads or settings.values.inference.threads, site_thresholds=site
    )
    note("model_loaded")
    return OpenModel(loaded=loaded, predictor=predictor, source=source)
