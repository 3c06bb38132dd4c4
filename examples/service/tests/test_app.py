import pytest

from inventory import create_app


@pytest.fixture()
def client():
    app = create_app()
    app.config["TESTING"] = True
    return app.test_client()


def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok", "items": 0}


def test_add_then_move(client):
    assert client.post("/items", json={"sku": "A-1", "name": "anchor"}).status_code == 201
    moved = client.post("/items/A-1/moves", json={"delta": 3}).get_json()
    assert moved["quantity"] == 3


def test_conflicts_are_409(client):
    client.post("/items", json={"sku": "A-1", "name": "anchor"})
    assert client.post("/items", json={"sku": "A-1", "name": "again"}).status_code == 409
    assert client.post("/items/A-1/moves", json={"delta": -1}).status_code == 409


def test_unknown_item_is_404(client):
    assert client.post("/items/nope/moves", json={"delta": 1}).status_code == 404
