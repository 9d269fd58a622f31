"""The canonical domain tags. The data migration installs them; the registry restores any that went missing."""
from __future__ import annotations

DEFAULT_DOMAINS: dict[str, str] = {
    "general": "General instruction following and chat",
    "math": "Mathematics",
    "code": "Programming",
    "reasoning": "Logical and multi-step reasoning",
    "science": "Natural sciences",
    "multilingual": "Non-English or translated data",
    "safety": "Safety and refusal behaviour",
    "chat": "Multi-turn conversation",
    "medical": "Medicine and health",
}
