"""The manifest schema: strict, closed, exported to resources/ and valid JSON Schema."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.waits import WAIT_S
from viewer.bundle.manifest import manifest_json_schema, parse_manifest, schema_text
from viewer.bundle.resources import MANIFEST_SCHEMA, resource_path
from viewer.errors import BundleError


@pytest.fixture
def manifest_dict(build_bundle: Callable[..., Path]) -> dict[str, Any]:
    import zipfile

    with zipfile.ZipFile(build_bundle(signer=False)) as zf:
        data: dict[str, Any] = json.loads(zf.read("manifest.json"))
    return data


def test_exported_schema_is_current() -> None:
    on_disk = resource_path(*MANIFEST_SCHEMA).read_text(encoding="utf-8")
    assert on_disk == schema_text(), "run: python packaging/write_manifest_schema.py"


def test_schema_validates_a_real_manifest(manifest_dict: dict[str, Any]) -> None:
    schema = json.loads(resource_path(*MANIFEST_SCHEMA).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(manifest_dict)
    bad = dict(manifest_dict, surprise=1)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_manifest_module_does_not_import_torch() -> None:
    import subprocess

    code = "import sys, viewer.bundle.manifest, viewer.bundle.loader; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=WAIT_S
    )
    assert out.stdout.strip() == "False"


def _mutations() -> list[tuple[str, Callable[[dict[str, Any]], None], str]]:
    def set_(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def apply(d: dict[str, Any]) -> None:
            node = d
            *parents, last = path.split(".")
            for p in parents:
                node = node[int(p)] if p.isdigit() else node[p]
            if isinstance(node, list):
                node[int(last)] = value
            else:
                node[last] = value

        return apply

    def drop(key: str) -> Callable[[dict[str, Any]], None]:
        return lambda d: d.pop(key)

    return [
        ("unknown-top-key", set_("extra", 1), "unknown key 'extra'"),
        ("unknown-nested-key", set_("creator.email", "x"), "unknown key 'creator.email'"),
        ("missing-labels", drop("labels"), "missing key 'labels'"),
        ("threshold-as-string", set_("labels.0.threshold", "0.5"), "labels.0.threshold"),
        ("threshold-above-1", set_("labels.0.threshold", 1.5), "labels.0.threshold"),
        ("bad-version", set_("version", "v1"), "'version'"),
        ("version-leading-zero", set_("version", "1.0.0-rc.01"), "'version'"),
        ("version-build-metadata", set_("version", "1.0.0+build.1"), "'version'"),
        ("bad-digest", set_("weights.sha256", "xyz"), "weights.sha256"),
        ("changelog-other-version", set_("changelog.0.version", "0.0.1"), "changelog"),
        ("metric-outside-ci", set_("metrics.0.value", 0.99), "confidence interval"),
        ("label-count", set_("network_data_format.outputs.pred.num_channels", 3), "labels"),
        ("int-as-float", set_("architecture.in_channels", 1.0), "in_channels"),
    ]


@pytest.mark.parametrize(
    ("mutate", "match"), [(m, s) for _, m, s in _mutations()], ids=[i for i, _, _ in _mutations()]
)
def test_strict_manifest_refusals(
    manifest_dict: dict[str, Any], mutate: Callable[[dict[str, Any]], None], match: str
) -> None:
    mutate(manifest_dict)
    with pytest.raises(BundleError, match=match) as info:
        parse_manifest(json.dumps(manifest_dict).encode())
    assert info.value.code == "schema"


def _step(index: int, value: dict[str, Any]) -> Callable[[list[dict[str, Any]]], None]:
    def apply(steps: list[dict[str, Any]]) -> None:
        steps[index] = value

    return apply


def _insert(index: int, value: dict[str, Any]) -> Callable[[list[dict[str, Any]]], None]:
    return lambda steps: steps.insert(index, value)


# (id, change to the preprocessing list, text the message must contain)
PREPROCESSING_REFUSALS: list[tuple[str, Callable[[list[dict[str, Any]]], None], str]] = [
    (
        "unknown-op",
        _step(0, {"op": "python", "code": "x"}),
        "step 1 (python): unknown operation 'python'",
    ),
    ("unknown-op-later", _insert(2, {"op": "clahe", "clip_limit": 2.0}), "'clahe'"),
    (
        "bad-parameter",
        _step(3, {"op": "resize", "size": 3, "interpolation": "bilinear", "antialias": True}),
        "step 4 (resize), field 'size'",
    ),
    (
        "unknown-parameter",
        _step(
            3,
            {
                "op": "resize",
                "size": 64,
                "interpolation": "bilinear",
                "antialias": True,
                "gamma": 2,
            },
        ),
        "step 4 (resize), field 'gamma': unknown parameter",
    ),
    ("source-not-first", _step(0, {"op": "invert_monochrome1"}), "must start with a 'source'"),
    (
        "two-sources",
        _insert(2, {"op": "source", "pixels": "modality"}),
        "more than one 'source'",
    ),
]


@pytest.mark.parametrize(
    ("change", "match"),
    [(c, m) for _, c, m in PREPROCESSING_REFUSALS],
    ids=[i for i, _, _ in PREPROCESSING_REFUSALS],
)
def test_preprocessing_refused_with_its_own_code(
    manifest_dict: dict[str, Any], change: Callable[[list[dict[str, Any]]], None], match: str
) -> None:
    """The contract: a step this viewer cannot apply is BundleError(code="preprocessing"), at load,
    with validate_steps' message naming the step and field."""
    change(manifest_dict["preprocessing"])
    with pytest.raises(BundleError) as info:
        parse_manifest(json.dumps(manifest_dict).encode())
    assert info.value.code == "preprocessing"
    assert match in info.value.message


def test_preprocessing_checked_before_the_rest_of_the_schema(
    manifest_dict: dict[str, Any],
) -> None:
    """Both wrong: the preprocessing code wins (the reason the viewer cannot run the model)."""
    manifest_dict["preprocessing"][0] = {"op": "python"}
    manifest_dict["extra"] = 1
    with pytest.raises(BundleError) as info:
        parse_manifest(json.dumps(manifest_dict).encode())
    assert info.value.code == "preprocessing"


@pytest.mark.parametrize(
    "preprocessing",
    ["not a list", None, {"op": "source"}],
    ids=["string", "null", "object"],
)
def test_preprocessing_not_a_list_is_a_schema_error(
    manifest_dict: dict[str, Any], preprocessing: Any
) -> None:
    manifest_dict["preprocessing"] = preprocessing
    with pytest.raises(BundleError, match="preprocessing") as info:
        parse_manifest(json.dumps(manifest_dict).encode())
    assert info.value.code == "schema"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_step(0, {"op": "invert_monochrome1"}), "must start with a 'source'"),
        (_insert(1, {"op": "source", "pixels": "modality"}), "more than one 'source'"),
    ],
    ids=["source-not-first", "two-sources"],
)
def test_manifest_model_refuses_a_misordered_pipeline(
    manifest_dict: dict[str, Any], change: Callable[[list[dict[str, Any]]], None], match: str
) -> None:
    """The order rule is part of the Manifest model itself, whatever path builds one."""
    from pydantic import ValidationError

    from viewer.bundle.manifest import Manifest

    change(manifest_dict["preprocessing"])
    with pytest.raises(ValidationError, match=match) as info:
        Manifest.model_validate_json(json.dumps(manifest_dict))
    assert [e["loc"][0] for e in info.value.errors()] == ["preprocessing"]


def test_selftest_threads_recorded_and_defaulted(manifest_dict: dict[str, Any]) -> None:
    """New bundles record the thread count; a manifest from before the field loads with 1, the
    count the demo bundle and earlier bundles were computed with."""
    from viewer.bundle.manifest import DEFAULT_SELFTEST_THREADS

    assert DEFAULT_SELFTEST_THREADS == 1
    assert manifest_dict["selftest"]["threads"] == 1
    del manifest_dict["selftest"]["threads"]
    assert parse_manifest(json.dumps(manifest_dict).encode()).selftest.threads == 1
    manifest_dict["selftest"]["threads"] = 4
    assert parse_manifest(json.dumps(manifest_dict).encode()).selftest.threads == 4


@pytest.mark.parametrize(
    "threads", [0, 65, "2", 1.0, None], ids=["0", "65", "str", "float", "null"]
)
def test_selftest_threads_bounds(manifest_dict: dict[str, Any], threads: Any) -> None:
    manifest_dict["selftest"]["threads"] = threads
    with pytest.raises(BundleError, match=r"selftest\.threads") as info:
        parse_manifest(json.dumps(manifest_dict).encode())
    assert info.value.code == "schema"


def test_calibration_declared_per_label_and_none_when_absent(
    manifest_dict: dict[str, Any],
) -> None:
    """A label may declare op_norm or none; absent is none, and a manifest without it (or with
    an explicit none) serialises to the bytes it had before calibration existed."""
    from viewer.bundle.manifest import Manifest

    assert "calibration" not in manifest_dict["labels"][0]
    before = parse_manifest(json.dumps(manifest_dict).encode())
    assert before.labels[0].calibration.method == "none"
    manifest_dict["labels"][0]["calibration"] = {"method": "none"}
    explicit = parse_manifest(json.dumps(manifest_dict).encode())
    assert explicit.to_json_bytes() == before.to_json_bytes()
    assert b"calibration" not in before.to_json_bytes()
    manifest_dict["labels"][0]["calibration"] = {"method": "op_norm"}
    calibrated = parse_manifest(json.dumps(manifest_dict).encode())
    assert calibrated.labels[0].calibration.method == "op_norm"
    again = Manifest.model_validate_json(calibrated.to_json_bytes())
    assert again.labels[0].calibration.method == "op_norm"
    schema = json.loads(resource_path(*MANIFEST_SCHEMA).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(manifest_dict)


@pytest.mark.parametrize(
    ("calibration", "match"),
    [
        ({"method": "platt"}, "labels.0.calibration.method"),
        ({"method": "OP_NORM"}, "labels.0.calibration.method"),
        ({}, "missing key 'labels.0.calibration.method'"),
        ({"method": "op_norm", "threshold": 0.5}, "unknown key 'labels.0.calibration.threshold'"),
        ("op_norm", "labels.0.calibration"),
        (None, "labels.0.calibration"),
    ],
    ids=["unknown-method", "case", "no-method", "extra-key", "bare-string", "null"],
)
def test_calibration_refusals(manifest_dict: dict[str, Any], calibration: Any, match: str) -> None:
    manifest_dict["labels"][0]["calibration"] = calibration
    with pytest.raises(BundleError, match=match) as info:
        parse_manifest(json.dumps(manifest_dict).encode())
    assert info.value.code == "schema"
    schema = json.loads(resource_path(*MANIFEST_SCHEMA).read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(manifest_dict)


def test_not_json_or_not_utf8() -> None:
    for raw in (b"\xff\xfe", b"{", b"[]", b"[" * 100_000, b'{"preprocessing": 1}'):
        with pytest.raises(BundleError) as info:
            parse_manifest(raw)
        assert info.value.code == "schema"


def test_schema_has_every_design_field() -> None:
    props = set(manifest_json_schema()["properties"])
    for name in (
        "id", "version", "changelog", "created", "creator", "licence", "intended_use",
        "out_of_scope_uses", "architecture", "weights", "network_data_format", "preprocessing",
        "labels", "training_data", "validation_data", "metrics", "library_versions",
        "accepted_inputs", "reference_scores", "selftest",
    ):  # fmt: skip
        assert name in props, name
