"""Issue 17, Scale: the inspector's receptive field after an edit of a 5,000-block design is
worked out for the blocks the edit can change, not for every block (a quarter of a second), and
always equals a full ``receptive_fields`` pass: random graphs, random edits of every kind."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental_inference import _edit
from test_property import draw_graph

from engine.analysis.receptive_field import receptive_fields
from engine.analysis.receptive_incremental import ReceptiveFields
from engine.incremental import IncrementalInference


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_kept_fields_equal_a_full_pass_after_random_edits(data: st.DataObject) -> None:
    g = draw_graph(data)
    incremental = IncrementalInference(g)
    kept = ReceptiveFields(g)
    assert kept.update(incremental.update()) == receptive_fields(g, incremental.result)
    for step in range(data.draw(st.integers(1, 8), label="edits")):
        kind = _edit(data, g, step)
        result = incremental.update()
        assert kept.update(result) == receptive_fields(g, result), kind


def test_an_edit_on_5000_blocks_visits_only_the_blocks_it_changes() -> None:
    from benchmarks.canvas_5000 import chain_graph

    g = chain_graph()
    incremental = IncrementalInference(g)
    kept = ReceptiveFields(g)
    kept.update(incremental.update())
    assert kept.visited == 5_000
    g.set_params("conv1000", {"out_channels": 8})  # channels: no field changes
    fields = kept.update(incremental.update())
    assert kept.visited <= 6  # the blocks whose shapes changed: conv1000 to conv1001
    assert fields == receptive_fields(g, incremental.result)
    g.set_params("conv1000", {"kernel_size": 5, "padding": 2})  # every field downstream grows
    fields = kept.update(incremental.update())
    assert kept.visited == 5_000 - g.names.index("conv1000")
    assert fields["output1"] == receptive_fields(g, incremental.result)["output1"]
    assert fields["relu999"] == receptive_fields(g, incremental.result)["relu999"]
