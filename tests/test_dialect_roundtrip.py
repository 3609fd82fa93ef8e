"""reader(writer(c)) == c in every dialect that expresses c without a note or a transform."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import lstm_configs

from tfjs_lstm import dialects

FAMILY = dialects.FAMILY_OF


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(dialects.DIALECTS))
def test_reader_inverts_writer_when_nothing_was_noted(data, dialect):
    config = data.draw(lstm_configs(FAMILY[dialect]))
    result = dialects.write(dialect, config)
    if result.notes or result.transforms:
        return
    assert dialects.read(dialect, result.config) == config
