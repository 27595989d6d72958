"""bookbuild: check, execute, render and lock the numbers of Quarto-style books."""

__version__ = "0.1.0"
