"""Answering from the tenant's knowledge: rewriting a follow-up into a standalone query
(`rewrite`, with a chat model when the feature is on), removing retrieved paragraphs that look
like prompt injection (`passage_screening`), reading the passages for the sentences that
answer and the probability that they answer at all (`reading`), composing a draft
(`compose`: extractive quotes, or a chat model's answer) and keeping only the draft sentences
the passages support (`verify`).
"""
