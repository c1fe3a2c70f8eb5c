"""Admin-defined procedures: the model, loading YAML, the template language, the runner, actions."""
