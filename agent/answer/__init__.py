"""Answering from knowledge: query rewrite, reading (answerability), composing, verifying."""
