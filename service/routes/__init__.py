"""HTTP routes, thin: they call the same services as the CLI."""
