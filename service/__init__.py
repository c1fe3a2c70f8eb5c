"""The composition root: settings, storage wiring, the HTTP API and the CLI."""
