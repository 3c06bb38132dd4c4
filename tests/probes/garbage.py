"""Test probe: prints something that is not the one JSON line of the contract."""

print("this is not JSON <b>at all</b>")
