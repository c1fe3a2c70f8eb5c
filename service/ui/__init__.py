"""The web consoles under /ui: the end user's chat (and its embeddable widget), the admin's
knowledge and AI settings, the human agent's inbox and the QA lead's trace review.

Server-rendered Jinja2 pages with Alpine.js (vendored, CSP build) calling the /v1 API with a
console session; see service/ui/auth.py for how sessions stand in for API keys.
"""
