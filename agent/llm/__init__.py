"""Chat models: the protocol, the OpenAI-compatible adapter, personal-data masking, a fake."""
