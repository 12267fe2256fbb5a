"""Veritrail: an open verification information system for arms-control regimes."""

__version__ = "0.1.0"

__all__ = ["__version__"]
