"""Warm chapter kernels: one template process per build imports the heavy packages once, then
forks a fresh, real ipykernel per chapter (see `template.py` and `provisioner.py`)."""
