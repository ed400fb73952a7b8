"""docs/flowsheet.schema.json against flowsheets with a maintained validator (jsonschema): every
shipped and corpus-ok flowsheet validates; the corpus cases the parser rejects for an unknown key
(E0101) are rejected by the schema too."""

import json
import pathlib
import sys

import pytest

from conftest import ROOT

jsonschema = pytest.importorskip("jsonschema")
if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA = json.loads((ROOT / "docs" / "flowsheet.schema.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def load(path):
    return tomllib.loads(path.read_text())


def mains():
    ok = sorted((ROOT / "flowsheets").glob("*.toml")) + sorted((ROOT / "tests/data/ok").glob("*.toml"))
    return ok


def test_schema_is_a_valid_draft7_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", mains(), ids=lambda p: str(p.relative_to(ROOT)))
def test_valid_flowsheets_validate(path):
    errors = [e.message for e in VALIDATOR.iter_errors(load(path))]
    assert errors == []


def unknown_key_cases():
    err = ROOT / "tests/data/err"
    cases = [p.with_suffix(".toml") for p in sorted(err.glob("*.stderr")) if "[E0101]" in p.read_text()]
    assert len(cases) >= 3
    return cases


@pytest.mark.parametrize("path", unknown_key_cases(), ids=lambda p: p.stem)
def test_unknown_keys_are_rejected(path):
    stderr = path.with_suffix(".stderr").read_text()
    unknown = [l.split("`")[1] for l in stderr.splitlines() if l.startswith("error[E0101]")]
    errors = list(VALIDATOR.iter_errors(load(path)))
    assert errors, f"{path.name}: the schema accepts it"
    text = " ".join(e.message for e in errors)
    for key in unknown:
        assert repr(key) in text, (key, text)
