"""Errors raised by mlsysim: each subclasses a builtin and `MlsysimError`, and keeps its facts."""

from __future__ import annotations


class MlsysimError(Exception):
    """Base of every error mlsysim raises on purpose."""


class GuardError(ValueError, MlsysimError):
    """A GUARD invariant in a cell failed: `check(cond, message)` with a false condition."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.message,))


class FormatError(ValueError, MlsysimError):
    """A value cannot be printed honestly: NaN, infinite, or a non-zero value that rounds to zero."""

    def __init__(self, value: float, reason: str) -> None:
        super().__init__(value, reason)
        self.value = value
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot format {self.value!r}: {self.reason}"
