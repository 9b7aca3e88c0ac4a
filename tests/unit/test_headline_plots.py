"""Each experiment's headline is a picture with its model; a plot with nothing to show is
not drawn (the overlays' own plots, on hand-made records)."""
from overlays.onion import OnionParams
from overlays.onion.analysis import model_plot
from overlays.spec import Deployed
from overlays.web import WebParams
from overlays.web.analysis import fetches_plot


def web(name, ttfb):
    params = WebParams.model_validate({"servers": ["s"]})
    records = [{"metric": "ttfb_ms", "value": v} for v in ttfb]
    records += [{"metric": "ttlb_ms", "value": 10 * v, "size": params.sizes[0]} for v in ttfb]
    return Deployed(name, params, ["c", "s"], {1: records})


def test_fetches_of_several_deployments_are_drawn_side_by_side(tmp_path):
    deps = [web("direct", [40, 42, 45]), web("via_onion", [210, 230, 260])]
    assert [p.name for p in fetches_plot(deps, tmp_path)] == ["web_fetches.png"]
    assert fetches_plot(deps[:1], tmp_path / "one") == []  # nothing to compare with


def test_onion_builds_and_streams_against_their_model(tmp_path):
    params = OnionParams.model_validate({"authority": "a", "relays": [
        {"host": "r1"}, {"host": "r2"}, {"host": "r3", "exit": True}], "clients": ["c"]})
    records = [{"metric": "circuit_build_ms", "value": 390, "model_ms": 120},
               {"metric": "stream_ttfb_ms", "value": 250, "model_ms": 240}]
    dep = Deployed("onion", params, [], {1: records})
    assert [p.name for p in model_plot([dep], tmp_path)] == ["onion_model.png"]
    assert model_plot([Deployed("onion", params, [], {1: []})], tmp_path / "none") == []
