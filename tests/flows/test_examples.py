from __future__ import annotations

from pathlib import Path

import pytest

from flows.language import parse_flow

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "flows"
EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yml")), ids=lambda p: p.name)
def test_every_example_flow_is_valid(path: Path) -> None:
    assert parse_flow(path.read_text()).tasks


@pytest.mark.skipif(not SEED.exists(), reason="shared/seed is not beside this checkout")
@pytest.mark.parametrize("path", sorted(SEED.glob("*.yml")), ids=lambda p: p.name)
def test_the_seed_flows_are_kept_byte_for_byte_among_the_examples(path: Path) -> None:
    assert (EXAMPLES / path.name).read_bytes() == path.read_bytes()
