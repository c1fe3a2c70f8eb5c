"""Chat models, which every generative feature goes through and none requires: the
`ChatModel` protocol (`chat`), the adapter for any OpenAI-compatible endpoint
(`openai_chat`), the wrapper that masks personal data before text leaves and restores it in
the reply (`masking`), and a scripted fake for tests that meets the same contract (`testing`).
"""
