"""The HTTP interface: JSON in, JSON out."""

from __future__ import annotations

from flask import Flask, abort, jsonify, request

from inventory.stock import Stock, StockError


def create_app(stock: Stock | None = None) -> Flask:
    app = Flask(__name__)
    store = stock or Stock()

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return {"status": "ok", "items": len(store.all())}

    @app.get("/items")
    def list_items():  # type: ignore[no-untyped-def]
        return jsonify([item.to_json() for item in store.all()])

    @app.post("/items")
    def add_item():  # type: ignore[no-untyped-def]
        body = request.get_json(force=True)
        try:
            item = store.add(str(body["sku"]), str(body["name"]))
        except StockError as err:
            return {"error": str(err)}, 409
        return item.to_json(), 201

    @app.post("/items/<sku>/moves")
    def move(sku: str):  # type: ignore[no-untyped-def]
        body = request.get_json(force=True)
        try:
            item = store.move(sku, int(body["delta"]), body.get("when"))
        except KeyError:
            abort(404)
        except StockError as err:
            return {"error": str(err)}, 409
        return item.to_json()

    return app
