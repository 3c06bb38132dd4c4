"""Stock records and the rules for moving them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dateutil import parser as date_parser


class StockError(ValueError):
    """A movement the stock rules forbid (the app answers 409)."""


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    quantity: int = 0
    updated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def to_json(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "name": self.name,
            "quantity": self.quantity,
            "updated": self.updated.isoformat(),
        }


class Stock:
    def __init__(self) -> None:
        self._items: dict[str, Item] = {}

    def add(self, sku: str, name: str) -> Item:
        if sku in self._items:
            raise StockError(f"{sku} already exists")
        item = Item(sku, name)
        self._items[sku] = item
        return item

    def get(self, sku: str) -> Item | None:
        return self._items.get(sku)

    def all(self) -> list[Item]:
        return sorted(self._items.values(), key=lambda item: item.sku)

    def move(self, sku: str, delta: int, when: str | None = None) -> Item:
        item = self._items.get(sku)
        if item is None:
            raise KeyError(sku)
        if item.quantity + delta < 0:
            raise StockError(f"{sku}: only {item.quantity} left, cannot take {-delta}")
        updated = date_parser.isoparse(when) if when else dt.datetime.now(dt.UTC)
        moved = Item(item.sku, item.name, item.quantity + delta, updated)
        self._items[sku] = moved
        return moved
