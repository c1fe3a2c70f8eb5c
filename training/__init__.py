"""Scripts that train the models Clearline ships (run from a clone, not installed)."""
