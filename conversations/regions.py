"""Model calls stay in the tenant's region: each region may have its own chat-model
endpoint (settings `region_chat_base_urls`), and a turn for a tenant calls only its
region's endpoint.

`RegionalAgent.respond` runs the turn inside the tenant's region (control.regional.in_region,
which also routes the turn's database sessions to the region's control database);
`RegionalChatModel` sends each request to that region's model, and refuses (ChatModelError,
so the turn falls back to its local path) when the region has none or no region is set.
The name of the model (recorded in the trace step) names the endpoint that served it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.llm.chat import ChatMessage, ChatModel, ChatModelError
from agent.replies import ConversationState, Reply, TenantAgent
from agent.turn import Agent
from control.regional import current_region, in_region


class RegionalChatModel:
    def __init__(self, models: Mapping[str, ChatModel]) -> None:
        self._models = dict(models)

    @property
    def name(self) -> str:
        """The current region's model (naming its endpoint); outside a turn, all of them."""
        region = current_region()
        if region is None:
            return "regional:" + ",".join(f"{r}={m.name}" for r, m in sorted(self._models.items()))
        model = self._models.get(region)
        return model.name if model is not None else f"regional:none-for-{region}"

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        region = current_region()
        model = self._models.get(region or "")
        if model is None:
            raise ChatModelError(
                f"no chat model is configured for region {region!r}; nothing was sent (set "
                'CLEARLINE_REGION_CHAT_BASE_URLS, e.g. \'{"eu": "http://10.0.0.5:8080/v1"}\')'
            )
        return model.complete(messages, max_tokens=max_tokens, temperature=temperature)

    def close(self) -> None:
        for model in self._models.values():
            closer = getattr(model, "close", None)
            if closer is not None:
                closer()


class RegionalAgent(Agent):
    """The Agent, running each turn inside its tenant's region."""

    def __init__(self, *args: Any, region_of: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._region_of = region_of

    def respond(self, agent: TenantAgent, state: ConversationState, message: str) -> Reply:
        with in_region(self._region_of(agent.tenant)):
            return super().respond(agent, state, message)
