"""Understanding a message: intent, sentiment, language, a request for a human, screening."""
