"""The agent: one conversation turn as explicit steps, understand -> route -> retrieve ->
compose -> verify -> decide, each recorded in a trace.

`turn.Agent` orders the steps (the one place that does); `replies` holds what a turn works
with and returns (conversation state, the tenant's agent, the turn context, the reply),
`reasons` the route and decide rules in words, `trace` the typed trace and its store
protocol, `config` a tenant's settings. The steps' work lives in sub-packages: `understand`
(intent, sentiment, language, a request for a human, injection screening of the message),
`answer` (query rewrite, passage screening, reading, composing, verifying), `procedures`
(admin-defined procedures and their actions) and `llm` (chat-model adapters and masking).
"""
