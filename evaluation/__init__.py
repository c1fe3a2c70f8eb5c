"""The QA loop: datasets, metrics, reports, gates (a later issue)."""
