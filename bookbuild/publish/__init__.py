"""Substituting results, pandoc and its Lua filters, pages, figures, the PDF."""
