"""The bundle manifest: everything that turns a model's number into a finding, and a model card.

Fields follow DESIGN.md (identity, intended use, data, metrics with confidence intervals, the
ordered preprocessing, per-label thresholds with their operating point, accepted inputs, a
reference score distribution and the self-test tolerance), with MONAI bundle's
``network_data_format`` for the tensors. Strict and closed (``extra="forbid"``): an unknown or
mistyped key refuses the bundle rather than being silently ignored. No torch import here.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from viewer.bundle.profile import InputProfile
from viewer.bundle.version import MAX_VERSION_LENGTH, SEMVER_PATTERN, parse_version
from viewer.errors import BundleError
from viewer.inference.checks import DEFAULT_POLICY
from viewer.inference.postprocess import CalibrationMethod
from viewer.inference.preprocess import PreprocessStep, check_order, validate_steps

MANIFEST_NAME = "manifest.json"
WEIGHTS_NAME = "weights.safetensors"
SELFTEST_NAME = "selftest.safetensors"
MODEL_CARD_NAME = "MODEL_CARD.md"
LICENSE_NAME = "LICENSE.txt"
SIGNATURE_NAME = "model.sig"
FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 1024 * 1024
# Self-test thread count when a manifest does not say: what `bundle create` and the demo build
# used before ``selftest.threads`` was recorded (demo_build sets torch to 1 thread).
DEFAULT_SELFTEST_THREADS = 1
MAX_SELFTEST_THREADS = 64  # viewer.inference.engine.configure_threads accepts 1..64

ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
MODEL_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"

Text = Annotated[str, Field(max_length=4000)]


def _semver(text: str) -> str:
    """The app's one version parser also checks what the pattern checks (SemVer 2.0.0)."""
    try:
        parse_version(text)
    except BundleError as exc:
        raise ValueError(exc.message) from exc
    return text


SemVer = Annotated[
    str, Field(pattern=SEMVER_PATTERN, max_length=MAX_VERSION_LENGTH), AfterValidator(_semver)
]
Short = Annotated[str, Field(min_length=1, max_length=200)]


Photometric = Literal["MONOCHROME1", "MONOCHROME2"]


def _both_photometric() -> list[Photometric]:
    return ["MONOCHROME1", "MONOCHROME2"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ChangelogEntry(_Strict):
    version: SemVer
    date: Annotated[str, Field(pattern=ISO_DATE)]
    changes: Text


class Creator(_Strict):
    name: Short
    organisation: Short
    contact: Annotated[str, Field(max_length=200)] = ""


class ArchitectureSpec(_Strict):
    """Which registered architecture (code shipped with the app) the weights belong to."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    in_channels: Annotated[int, Field(ge=1, le=16)]


class WeightsSpec(_Strict):
    file: Literal["weights.safetensors"] = "weights.safetensors"
    format: Literal["safetensors"] = "safetensors"
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    parameters: Annotated[int, Field(ge=0)]


class TensorFormat(_Strict):
    """One tensor of MONAI's ``network_data_format`` (inputs.image / outputs.pred)."""

    type: Literal["image", "probabilities", "logits"]
    format: Literal["magnitude", "classes", "labels"]
    modality: Annotated[str, Field(max_length=40)] = ""
    num_channels: Annotated[int, Field(ge=1, le=1000)]
    spatial_shape: Annotated[list[int], Field(max_length=3)]
    dtype: Literal["float32"] = "float32"
    value_range: tuple[float, float]
    is_patch_data: bool = False
    channel_def: dict[str, Short] = Field(default_factory=dict)


class NetworkDataFormat(_Strict):
    inputs: dict[Literal["image"], TensorFormat]
    outputs: dict[Literal["pred"], TensorFormat]


class Calibration(_Strict):
    """How the score shown for a label is made from the raw score (the finding is always decided
    on the raw score against the label's threshold)."""

    method: CalibrationMethod = Field(
        description=(
            "`op_norm`: TorchXRayVision's piecewise-linear map that sends the label's threshold "
            "(or a site threshold in force) to 0.5, linearly below and above, so the shown score "
            "is the authors' calibrated score and 0.5 the shown threshold; the raw score stays "
            "one click away and in the audit row. `none`: the raw score is shown."
        )
    )


NO_CALIBRATION = Calibration(method="none")


class LabelSpec(_Strict):
    """A finding, its decision threshold and the operating point it was chosen at."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_ -]{1,64}$")]
    display_name: Annotated[str, Field(max_length=100)] = ""
    threshold: Annotated[float, Field(ge=0.0, le=1.0)]
    operating_point: Short
    activation: Literal["sigmoid", "softmax"] = "sigmoid"
    calibration: Calibration = Field(
        default=NO_CALIBRATION,
        description='The shown score\'s calibration. Absent: `{"method": "none"}`.',
    )


class HiddenOutput(_Strict):
    """A network output that is never shown as a finding (no label, or no threshold for it).

    The network still computes it (its weights are the published ones, unchanged); the viewer
    drops it before any score is shown. ``name`` is what the model's source calls it, possibly
    nothing; ``reason`` says why it is hidden.
    """

    output: Annotated[int, Field(ge=0, le=999)]
    name: Annotated[str, Field(max_length=64)] = ""
    reason: Short


class DatasetDescription(_Strict):
    description: Text
    sources: Annotated[list[Short], Field(max_length=50)]
    dates: Short
    count: Annotated[int, Field(ge=0)]
    positives: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    devices: Annotated[list[Short], Field(max_length=50)] = Field(default_factory=list)


class Metric(_Strict):
    name: Short
    label: Annotated[str, Field(max_length=64)]
    value: float
    ci_low: float
    ci_high: float
    ci_level: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95
    ci_method: Short
    dataset: Literal["validation", "test", "external"] = "validation"

    @model_validator(mode="after")
    def _ordered(self) -> Metric:
        if not self.ci_low <= self.value <= self.ci_high:
            raise ValueError("a metric's value must lie within its confidence interval")
        return self


Action = Literal["accept", "warn", "refuse"]


class FieldPolicy(_Strict):
    """What to do with an image whose header tag is ``missing`` (empty or absent), or names a
    value the accepted inputs do not list (``other``): score it (``accept``), score it with a
    warning (``warn``) or give no score (``refuse``)."""

    missing: Action
    other: Action


def _default(name: str) -> FieldPolicy:
    missing, other = DEFAULT_POLICY[name]
    return FieldPolicy(missing=missing, other=other)


class InputPolicy(_Strict):
    """The accepted-inputs policy, one row per header field (data, not code).

    A bundle without this table, or a row left out, gets the safe defaults
    (``viewer.inference.checks.DEFAULT_POLICY``): a missing or other modality and another stated
    body part are refused; a missing body part, view, photometric interpretation, bits stored or
    pixel spacing, and another view, photometric interpretation, bit depth or spacing, warn. A
    colour, multi-frame or lateral-for-frontal image is refused whatever the table says.
    """

    modality: FieldPolicy = Field(default_factory=lambda: _default("modality"))
    body_part: FieldPolicy = Field(default_factory=lambda: _default("body_part"))
    view: FieldPolicy = Field(default_factory=lambda: _default("view"))
    photometric: FieldPolicy = Field(default_factory=lambda: _default("photometric"))
    bits_stored: FieldPolicy = Field(default_factory=lambda: _default("bits_stored"))
    pixel_spacing: FieldPolicy = Field(default_factory=lambda: _default("pixel_spacing"))


class AcceptedInputs(_Strict):
    """What images the model was validated on; viewer.inference.checks compares a header to it.

    An empty list accepts any view, body part or photometric interpretation; an empty
    ``modalities`` list accepts the projection modalities (CR, DX, DR) only. Pixel spacing is in
    mm per pixel, from (0028,0030) Pixel Spacing or (0018,1164) Imager Pixel Spacing. ``policy``
    says, per field, what a missing or other value does (:class:`InputPolicy`).
    """

    modalities: Annotated[list[Short], Field(max_length=10)] = Field(default_factory=list)
    views: Annotated[list[Short], Field(max_length=10)] = Field(default_factory=list)
    body_parts: Annotated[list[Short], Field(max_length=10)] = Field(default_factory=list)
    photometric: Annotated[list[Photometric], Field(max_length=2)] = Field(
        default_factory=_both_photometric
    )
    bits_stored_min: Annotated[int, Field(ge=1, le=16)] = 8
    bits_stored_max: Annotated[int, Field(ge=1, le=16)] = 16
    pixel_spacing_mm_min: Annotated[float, Field(gt=0.0)] | None = None
    pixel_spacing_mm_max: Annotated[float, Field(gt=0.0)] | None = None
    min_rows: Annotated[int, Field(ge=1)] = 128
    min_columns: Annotated[int, Field(ge=1)] = 128
    policy: InputPolicy = Field(
        default_factory=InputPolicy,
        description=(
            "Per header field: what a missing tag and a value the lists above do not hold do "
            "(accept / warn / refuse). Absent: the safe defaults (InputPolicy)."
        ),
    )

    @model_validator(mode="after")
    def _ranges(self) -> AcceptedInputs:
        if self.bits_stored_min > self.bits_stored_max:
            raise ValueError("bits_stored_min is above bits_stored_max")
        lo, hi = self.pixel_spacing_mm_min, self.pixel_spacing_mm_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("pixel_spacing_mm_min is above pixel_spacing_mm_max")
        return self


class ScoreDistribution(_Strict):
    """Histogram of one label's validation scores, the reference for drift monitoring."""

    label: Annotated[str, Field(max_length=64)]
    bin_edges: Annotated[list[float], Field(min_length=2, max_length=101)]
    counts: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1, max_length=100)]
    dataset: Literal["validation", "test", "external"] = "validation"

    @model_validator(mode="after")
    def _shape(self) -> ScoreDistribution:
        if len(self.bin_edges) != len(self.counts) + 1:
            raise ValueError("bin_edges must have one more entry than counts")
        if any(b <= a for a, b in zip(self.bin_edges, self.bin_edges[1:], strict=False)):
            raise ValueError("bin_edges must increase")
        return self


class SelfTestSpec(_Strict):
    """A stored input and its expected output, rerun at every load (viewer.inference.selftest)."""

    file: Literal["selftest.safetensors"] = "selftest.safetensors"
    photometric: Literal["MONOCHROME1", "MONOCHROME2"]
    tolerance: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=1e-4, description="Max absolute difference of the model outputs (logits)"
    )
    tensor_tolerance: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=1e-5, description="Max absolute difference of the preprocessed tensor"
    )
    source: Annotated[str, Field(max_length=400)] = ""
    threads: Annotated[int, Field(ge=1, le=MAX_SELFTEST_THREADS)] = Field(
        default=DEFAULT_SELFTEST_THREADS,
        description=(
            "torch intra-op thread count the expected values were computed with; the load reruns "
            "the self-test with it (float reductions differ in the last bits between thread "
            "counts). Absent in bundles made before this field existed: those, the demo bundle "
            "included, were computed with 1 thread."
        ),
    )


class Compatibility(_Strict):
    """Versions this bundle may run with (major.minor[.patch]); checked before loading weights."""

    min_app_version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")] = "0.1"
    torch_min: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")] = "2.4"
    torch_below: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")] | None = "3.0"


class Manifest(_Strict):
    """``manifest.json`` of a ``.bundle``; see resources/schemas/manifest.schema.json."""

    format_version: Literal[1] = 1
    id: Annotated[str, Field(pattern=MODEL_ID)]
    name: Short
    version: SemVer
    changelog: Annotated[list[ChangelogEntry], Field(min_length=1, max_length=200)]
    created: Annotated[str, Field(pattern=ISO_UTC)]
    creator: Creator
    licence: Short
    regulatory_status: Short
    intended_use: Text
    out_of_scope_uses: Annotated[list[Text], Field(min_length=1, max_length=50)]
    architecture: ArchitectureSpec
    weights: WeightsSpec
    network_data_format: NetworkDataFormat
    preprocessing: Annotated[list[PreprocessStep], Field(min_length=1, max_length=32)]
    labels: Annotated[list[LabelSpec], Field(min_length=1, max_length=100)] = Field(
        description=(
            "The findings shown, in the order of the network outputs that are not hidden "
            "(hidden_outputs): the first label is the first output not hidden, and so on."
        )
    )
    hidden_outputs: Annotated[list[HiddenOutput], Field(max_length=900)] = Field(
        default_factory=list,
        description=(
            "Network outputs never shown as findings (no label or no threshold). Absent or "
            "empty: every output is a label."
        ),
    )
    provenance: dict[
        Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=400)]
    ] = Field(
        default_factory=dict,
        description=(
            "Where the weights came from, as `bundle import` records it (source library and "
            "version, weights name, file name and SHA-256, key mapping). Empty for `bundle "
            "create`."
        ),
    )
    training_data: DatasetDescription
    validation_data: DatasetDescription
    metrics: Annotated[list[Metric], Field(max_length=500)]
    library_versions: dict[
        Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=64)]
    ]
    accepted_inputs: AcceptedInputs
    reference_scores: Annotated[list[ScoreDistribution], Field(max_length=100)]
    reference_profile: InputProfile | None = Field(
        default=None,
        description=(
            "The reference images' input mix and out-of-distribution statistics (written by "
            "`bundle create --reference`). Absent: no per-image reference check, and the drift "
            "monitor compares scores only."
        ),
    )
    selftest: SelfTestSpec
    compatibility: Compatibility = Compatibility()

    @field_validator("preprocessing")
    @classmethod
    def _ordered_steps(cls, steps: list[PreprocessStep]) -> list[PreprocessStep]:
        """One 'source' step, first: the structural rule preprocess() enforces, checked here so
        a mis-ordered pipeline is refused with the schema, not only when the self-test runs."""
        try:
            check_order(steps)
        except BundleError as exc:
            raise ValueError(exc.message) from exc
        return steps

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, labels: list[LabelSpec]) -> list[LabelSpec]:
        names = [label.name for label in labels]
        if len(set(names)) != len(names):
            raise ValueError("label names must be unique")
        return labels

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.changelog[0].version != self.version:
            raise ValueError("the first changelog entry must describe this version")
        out = self.network_data_format.outputs["pred"]
        if out.num_channels != self.num_outputs:
            raise ValueError(
                "network_data_format.outputs.pred.num_channels != number of labels "
                "plus hidden outputs"
            )
        hidden = [h.output for h in self.hidden_outputs]
        if len(set(hidden)) != len(hidden) or any(i >= self.num_outputs for i in hidden):
            raise ValueError("hidden_outputs must name distinct outputs of the network")
        inp = self.network_data_format.inputs["image"]
        if inp.num_channels != self.architecture.in_channels:
            raise ValueError("network input channels differ from architecture.in_channels")
        if len({label.activation for label in self.labels}) != 1:
            raise ValueError("all labels must use the same activation")
        known = {label.name for label in self.labels}
        used = [m.label for m in self.metrics] + [r.label for r in self.reference_scores]
        for name in used:
            if name and name not in known:
                raise ValueError(f"'{name}' in metrics / reference_scores is not a label")
        return self

    @property
    def num_labels(self) -> int:
        return len(self.labels)

    @property
    def num_outputs(self) -> int:
        """The network's outputs: the labels and the hidden outputs."""
        return len(self.labels) + len(self.hidden_outputs)

    @property
    def shown_outputs(self) -> list[int]:
        """The network output each label reads, in label order."""
        hidden = {h.output for h in self.hidden_outputs}
        return [i for i in range(self.num_outputs) if i not in hidden]

    def to_json_bytes(self) -> bytes:
        """Canonical bytes (sorted keys, 2-space indent, LF) so a rebuilt bundle is identical.

        Sections added later (``hidden_outputs``, ``provenance``, a label's ``calibration``)
        are left out when empty or ``none``, so a bundle made before them rebuilds to the same
        bytes."""
        data = self.model_dump(mode="json")
        for key in ("hidden_outputs", "provenance"):
            if not data.get(key):
                data.pop(key, None)
        for label in data["labels"]:
            if label["calibration"] == NO_CALIBRATION.model_dump(mode="json"):
                del label["calibration"]
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(x) for x in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            parts.append(f"unknown key '{where}'")
        elif item["type"] == "missing":
            parts.append(f"missing key '{where}'")
        else:
            parts.append(f"'{where}': {item['msg']}")
    more = len(error.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_manifest(raw: bytes) -> Manifest:
    """Validate ``manifest.json`` bytes: a preprocessing step this viewer cannot apply ->
    BundleError(code="preprocessing"); any other problem -> BundleError(code="schema")."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(
            f"The bundle's manifest is {len(raw)} bytes, over the {MAX_MANIFEST_BYTES} byte limit.",
            code="schema",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError("The bundle's manifest is not UTF-8 text.", code="schema") from exc
    _check_preprocessing(text)
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise BundleError(
            f"The bundle's manifest does not match the schema: {_describe(exc)}.", code="schema"
        ) from exc


def _check_preprocessing(text: str) -> None:
    """The preprocessing list first, with the inference layer's own validator: an operation or
    parameter this viewer cannot apply refuses the bundle at load with code "preprocessing" and
    a message naming the step and field (contract), never at the first image. Text that is not a
    JSON object, or has no list here, is left to the schema check that follows."""
    try:
        raw = json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError
        raise BundleError(
            f"The bundle's manifest is not valid JSON ({exc}).", code="schema"
        ) from exc
    except RecursionError as exc:
        raise BundleError("The bundle's manifest is nested too deeply.", code="schema") from exc
    if isinstance(raw, dict) and isinstance(raw.get("preprocessing"), list):
        validate_steps(raw["preprocessing"])  # BundleError(code="preprocessing")


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema exported to resources/schemas/manifest.schema.json."""
    schema = Manifest.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://bedside.invalid/schemas/manifest.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n"
