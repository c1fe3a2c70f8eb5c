"""Ingestion: source files -> parsed elements -> chunks -> vectors -> the knowledge store."""
