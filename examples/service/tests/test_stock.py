import copy
import datetime as dt

import pytest

from inventory.stock import Item, Stock, StockError


def test_add_and_list_sorted():
    stock = Stock()
    stock.add("B-2", "bolt")
    stock.add("A-1", "anchor")
    assert [item.sku for item in stock.all()] == ["A-1", "B-2"]


def test_move_keeps_quantity_non_negative():
    stock = Stock()
    stock.add("A-1", "anchor")
    stock.move("A-1", 5)
    with pytest.raises(StockError):
        stock.move("A-1", -6)


def test_move_parses_iso_timestamps():
    stock = Stock()
    stock.add("A-1", "anchor")
    item = stock.move("A-1", 2, when="2026-11-27T10:15:00+01:00")
    assert item.updated == dt.datetime(2026, 11, 27, 9, 15, tzinfo=dt.UTC)


def test_records_copy_with_changes():
    # copy.replace() arrived in Python 3.13: on 3.11 this is an AttributeError. The team
    # started using it in 3.13 development; this test is the canary of that habit.
    item = Item("A-1", "anchor", 3)
    changed = copy.replace(item, quantity=4)
    assert (changed.sku, changed.quantity) == ("A-1", 4)
