"""Running chapters in kernels: plans, the execution cache, warm templates."""
