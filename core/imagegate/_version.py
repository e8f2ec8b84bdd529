"""The version of imagegate and of every bundled distribution (single source, read at build time)."""

__version__ = "0.1.0"
