"""Bedside: a chest X-ray viewer with a trusted, signed AI second reader."""

__version__ = "0.1.0"
