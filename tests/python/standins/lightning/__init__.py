"""Test stand-in for the `lightning` package (tests/python): see lightning/pytorch."""

from lightning import pytorch  # noqa: F401

STAND_IN = True
