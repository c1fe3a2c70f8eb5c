"""The conversation state machine: messages, drafts waiting for a human's approval,
handoffs and ratings, persisted in the control database; and each tenant's agent setup."""
