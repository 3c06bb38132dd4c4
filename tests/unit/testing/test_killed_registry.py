"""The "killed-mid-blob" fault server (no engine): a whole manifest and config, half a layer,
then a reset connection and a closed port, as a registry process killed during a pull."""

from __future__ import annotations

import http.client
import json

import pytest

from harness.testing.registry import LAYER_BYTES, MANIFEST_V2, FaultyRegistry


def _get(host: str, path: str) -> http.client.HTTPResponse:
    name, port = host.split(":")
    connection = http.client.HTTPConnection(name, int(port), timeout=5)
    connection.request("GET", path)
    return connection.getresponse()


def test_half_a_layer_then_the_port_is_closed() -> None:
    with FaultyRegistry("killed-mid-blob") as killed:
        manifest_response = _get(killed.host, "/v2/library/python/manifests/3.11-slim")
        assert manifest_response.getheader("Content-Type") == MANIFEST_V2
        manifest = json.loads(manifest_response.read())
        config = _get(killed.host, f"/v2/library/python/blobs/{manifest['config']['digest']}")
        assert len(config.read()) == manifest["config"]["size"]
        layer = _get(killed.host, f"/v2/library/python/blobs/{manifest['layers'][0]['digest']}")
        assert layer.getheader("Content-Length") == str(LAYER_BYTES)
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
            layer.read()
        with pytest.raises(ConnectionRefusedError):
            _get(killed.host, "/v2/")
