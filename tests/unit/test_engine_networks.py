"""engine/client.py's network queries: what the engine's filters match beyond the name asked."""

from minidokku.engine.client import Engine


def test_containers_on_network_keeps_only_those_on_the_network_of_that_exact_name(monkeypatch):
    """The engine's `network=` filter matches a network's id prefix too: `abc` names a network
    called abc and every network whose id starts with abc."""
    engine = Engine("/nonexistent/engine.sock")
    answer = [
        {"Names": ["/t-1-cat.web.1"], "NetworkSettings": {"Networks": {"abc": {}, "t-1-minidokku-apps": {}}}},
        {"Names": ["/t-1-dog.web.1"], "NetworkSettings": {"Networks": {"t-1-backend": {}}}},  # id abc123...
        {"Names": ["/no-settings"]},
    ]
    asked = []
    monkeypatch.setattr(engine, "_json", lambda method, path, **kwargs: asked.append((method, path)) or answer)
    assert [entry["Names"] for entry in engine.containers_on_network("abc")] == [["/t-1-cat.web.1"]]
    assert asked == [("GET", "/containers/json")]
