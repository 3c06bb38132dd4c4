"""Test probe: touches far more memory than the cell's limit (the OOM killer must act)."""

chunks = []
for _ in range(64):
    chunks.append(b"x" * (16 * 1024 * 1024))  # bytes filled with data: pages are touched
print('{"status": "passed", "seconds": 0}')
