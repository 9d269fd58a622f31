"""The one domain vocabulary of Arena.

A *domain* is what a dataset is about and what a benchmark measures; the same names serve both. Every list of
domains derives from ``DOMAINS`` here: the dataset tags the registry installs (data migration + ``domains_resolve``),
the upload form and API validation, the benchmark domains (``Benchmark.domain`` choices, benchmark kinds), the
leaderboard's per-domain columns (``BENCHMARK_DOMAINS``), and the UI's labels and colours (``domain_colour``).

Adding a domain: add one ``Domain`` line below. Mark it ``benchmark=True`` only if benchmarks may be filed under it
(each such domain is a leaderboard column; changing that set changes ``Benchmark.domain``'s choices: run
``makemigrations``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainInfo:
    name: str  # the stored value (Domain.name of a dataset tag, Benchmark.domain)
    label: str
    description: str
    colour: str  # the UI's fill colour (genealogy nodes, swatches)
    benchmark: bool = False  # benchmarks may be filed under it: a leaderboard column


DOMAINS: tuple[DomainInfo, ...] = (
    DomainInfo("general", "General", "General instruction following and chat", "#9ecae1", benchmark=True),
    DomainInfo("math", "Math", "Mathematics", "#fdd0a2", benchmark=True),
    DomainInfo("code", "Code", "Programming", "#c7e9c0", benchmark=True),
    DomainInfo("reasoning", "Reasoning", "Logical and multi-step reasoning", "#dadaeb", benchmark=True),
    DomainInfo("science", "Science", "Natural sciences", "#fcbba1"),
    DomainInfo("multilingual", "Multilingual", "Non-English or translated data", "#c6dbef"),
    DomainInfo("safety", "Safety", "Safety and refusal behaviour", "#fee391"),
    DomainInfo("chat", "Chat", "Multi-turn conversation", "#d9f0d3"),
    DomainInfo("medical", "Medical", "Medicine and health", "#f4cae4"),
    DomainInfo("mixed", "Mixed", "A mixture of several domains", "#f0f0f0"),
)
UNTAGGED_COLOUR = "#ffffff"

DOMAIN_BY_NAME: dict[str, DomainInfo] = {d.name: d for d in DOMAINS}
#: name -> description of the canonical dataset tags (the data migration installs them; the registry restores any
#: that went missing)
DEFAULT_DOMAINS: dict[str, str] = {d.name: d.description for d in DOMAINS}
#: the domains benchmarks are filed under, in leaderboard column order
BENCHMARK_DOMAINS: tuple[str, ...] = tuple(d.name for d in DOMAINS if d.benchmark)
#: ``choices`` of ``Benchmark.domain``
BENCHMARK_DOMAIN_CHOICES: list[tuple[str, str]] = [(d.name, d.label) for d in DOMAINS if d.benchmark]


def domain_colour(name: str) -> str:
    """The UI colour of a domain; tags users created themselves get the neutral one."""
    info = DOMAIN_BY_NAME.get(name)
    return info.colour if info else UNTAGGED_COLOUR


def domain_label(name: str) -> str:
    info = DOMAIN_BY_NAME.get(name)
    return info.label if info else name
