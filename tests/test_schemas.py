"""The committed schemas/ are exactly what the layer registry generates, and are valid."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from tfjs_lstm.schema import all_schemas, render

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@pytest.mark.parametrize("file_name", sorted(all_schemas()))
def test_committed_schema_matches_the_registry(file_name):
    committed = SCHEMAS / file_name
    assert committed.exists(), f"run `make schemas`: {file_name} is missing"
    assert committed.read_text() == render(all_schemas()[file_name]), "run `make schemas`"


@pytest.mark.parametrize("file_name", sorted(all_schemas()))
def test_schema_is_valid_draft_2020_12(file_name):
    jsonschema.Draft202012Validator.check_schema(all_schemas()[file_name])


def test_no_stray_schema_files():
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(all_schemas())
