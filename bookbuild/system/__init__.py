"""Leaves every stage uses: errors, atomic files, child processes, caches' upkeep, output folders."""
