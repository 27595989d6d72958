"""Text and configuration in: the project (_quarto.yml), .qmd parsing, options, includes, shortcodes."""
