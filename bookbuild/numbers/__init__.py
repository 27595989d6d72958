"""The numbers lock as data, what moved a number, and the provenance of a value."""
