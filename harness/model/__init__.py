"""What things are: ids and anchors, the matrix spec, statuses, result records, statistics."""
