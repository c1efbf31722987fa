"""Requirements as pip reads them (PEP 508), reduced to what keys an environment."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement


class RequirementInvalid(ValueError):
    """A requirement that cannot key an environment: says which and why."""


def requirement_check(text: str) -> Requirement:
    """A package requirement such as ``pandas>=2`` or ``requests[socks]==2.32.3``; refused
    when it is a URL or a path (what it installs could change under the same words)."""
    try:
        requirement = Requirement(text.strip())
    except InvalidRequirement as exc:
        raise RequirementInvalid(f"'{text}' is not a requirement: {exc}") from None
    if requirement.url:
        raise RequirementInvalid(f"'{text}' names a URL, not a package from the index")
    return requirement


def requirement_pinned(text: str) -> bool:
    """One exact version (``==1.2.3``, no wildcard): resolving it again gives the same."""
    try:
        specifiers = list(requirement_check(text).specifier)
    except RequirementInvalid:
        return False
    return (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and not specifiers[0].version.endswith(".*")
    )


def requirements_normal(texts: list[str] | tuple[str, ...]) -> list[str]:
    """Sorted, deduplicated, in one spelling: ``Pandas >= 2`` and ``pandas>=2`` key alike."""
    return sorted({str(requirement_check(text)) for text in texts}, key=str.lower)
