"""Static analysis, no kernel: AST names, inline references, traces, the check, cross-references."""
