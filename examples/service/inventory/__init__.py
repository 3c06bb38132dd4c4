"""inventory: a small stock-keeping HTTP service (a plain Flask app)."""

from inventory.app import create_app
from inventory.stock import Item, Stock

__all__ = ["Item", "Stock", "create_app"]
