"""The sandbox image: three cached stages built with no registry (see build.py and docs/sandbox.md)."""
