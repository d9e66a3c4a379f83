"""The one version parser: SemVer 2.0.0 precedence for bundles, release numbers for the runtime."""

from __future__ import annotations

import itertools

import pytest

from viewer.bundle.version import (
    SEMVER_PATTERN,
    parse_version,
    release_tuple,
    version_key,
)
from viewer.errors import BundleError

# semver.org 2.0.0, section 11, example 4, then the numeric examples of sections 11.2 and 11.3.
SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


@pytest.mark.parametrize(
    ("lower", "higher"), list(itertools.pairwise(SPEC_ORDER)), ids=lambda v: str(v)
)
def test_spec_precedence(lower: str, higher: str) -> None:
    assert version_key(lower) < version_key(higher)


def test_sorting_the_spec_example_restores_its_order() -> None:
    assert sorted(reversed(SPEC_ORDER), key=version_key) == SPEC_ORDER


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0.0-rc1", "1.0.0"),  # a pre-release is below its release (the table had them equal)
        ("1.0.0-2", "1.0.0-10"),  # numeric identifiers compare as numbers
        ("1.0.0-10", "1.0.0-1a"),  # numeric < alphanumeric
        ("1.0.0-Z", "1.0.0-a"),  # alphanumeric in ASCII order
        ("1.9.0", "1.10.0"),
        ("0.9.9", "1.0.0-alpha"),
    ],
)
def test_more_precedence(lower: str, higher: str) -> None:
    assert version_key(lower) < version_key(higher)


def test_build_metadata_is_ignored_for_precedence() -> None:
    assert version_key("1.0.0+build.5") == version_key("1.0.0+other") == version_key("1.0.0")
    v = parse_version("1.0.0-rc.1+exp.sha.5114f85")
    assert (v.prerelease, v.build) == (("rc", "1"), ("exp", "sha", "5114f85"))
    assert str(v) == "1.0.0-rc.1+exp.sha.5114f85"


@pytest.mark.parametrize(
    "text",
    [
        "1.0",
        "v1.0.0",
        "01.0.0",
        "1.0.0-01",  # numeric identifiers have no leading zeros
        "1.0.0-",
        "1.0.0-a..b",
        "1.0.0+",
        "1.0.0 ",
        "1.0.0-é",
        "١.0.0",  # a non-ASCII digit
        "1" * 200 + ".0.0",  # long enough to break int(); refused before
        "",
    ],
)
def test_invalid_versions_are_refused_clearly(text: str) -> None:
    with pytest.raises(BundleError) as raised:
        parse_version(text)
    assert raised.value.code == "schema"
    assert "not a semantic version" in str(raised.value)


def test_manifest_pattern_agrees_with_the_parser() -> None:
    import re

    pattern = re.compile(SEMVER_PATTERN)
    for text in [*SPEC_ORDER, "1.0.0-x-y.0.a1"]:
        assert pattern.match(text), text
    for text in ["1.0.0-01", "1.0.0-a..b", "1.0.0+build"]:  # no build metadata in a manifest
        assert not pattern.match(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.13.0+cpu", (2, 13, 0)),
        ("2.4", (2, 4, 0)),
        ("3", (3, 0, 0)),
        ("2.14.0a0+git1234", (2, 14, 0)),
        ("2.4rc1", (2, 4, 0)),  # the old parser read this as 2.41
        ("0.1.0.dev3", (0, 1, 0)),
    ],
)
def test_release_numbers_of_runtime_versions(text: str, expected: tuple[int, int, int]) -> None:
    assert release_tuple(text) == expected


def test_a_runtime_version_without_numbers_is_refused() -> None:
    with pytest.raises(BundleError) as raised:
        release_tuple("unknown")
    assert raised.value.code == "version"
