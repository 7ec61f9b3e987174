"""AAR: infrastructure for Automated Alignment Researchers (the ``aar`` command and shared glue)."""
