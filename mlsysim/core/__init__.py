"""Core of mlsysim: the unit registry and the sourced constants."""
