"""Analyzer accuracy on a held-out set of everyday requests: prints one JSON object.

Each line of bench/data/analyzer_heldout.jsonl holds a request `text`, the `today` it was written on,
and either the brief fields it should give (`expect`, plus words its notes must mention) or the field
whose hard limit it breaks (`error`). The set is kept out of the unit tests on purpose: it measures how
the analyzer reads requests nobody tuned it for.

    python -m bench.analyzer_accuracy [--data PATH] [--catalog SNAPSHOT | live]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.analyzer import Brief, InputAnalyzer  # noqa: E402
from bench.catalog_facts import analyzer_options  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "analyzer_heldout.jsonl"
# The catalog as it was when the sets were written: their expected notes ("no kosher option") assume it.
DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "analyzer_heldout_catalog.json"
SET_FIELDS = ("dietary_needs", "theme_preferences", "skipped_agents")


def observed(brief: Brief, all_agents: tuple[str, ...]) -> dict[str, Any]:
    """The brief's fields in the held-out set's terms (lists as sorted lists, the date as ISO text)."""
    return {
        "party_type": brief.party_type,
        "guest_count": brief.guest_count,
        "date": brief.date.isoformat() if brief.date else None,
        "city": brief.city,
        "budget": brief.budget,
        "dietary_needs": sorted(brief.dietary_needs),
        "theme_preferences": sorted(brief.theme_preferences),
        "age_group": brief.age_group,
        "setting": brief.setting,
        "skipped_agents": sorted(set(all_agents) - set(brief.agents)),
    }


def score_case(
    case: dict[str, Any], all_agents: tuple[str, ...], catalog: Path | None
) -> tuple[dict[str, bool], dict[str, Any]]:
    """Per-field verdicts for one request, and what the analyzer gave for the fields it got wrong."""
    today = datetime.date.fromisoformat(case["today"])
    analyzer = InputAnalyzer(today=today, **analyzer_options(catalog))
    try:
        brief = analyzer.analyze(text=case["text"])
    except ValueError as exc:
        field = getattr(exc, "field", None)
        if "error" in case:
            right = field == case["error"]
            return {"error": right}, ({} if right else {"error": f"raised for {field!r}: {exc}"})
        return {name: False for name in case["expect"]}, {"error": f"unexpected {type(exc).__name__}: {exc}"}
    if "error" in case:
        return {"error": False}, {"error": f"no error; guest_count={brief.guest_count}, budget={brief.budget}"}
    got = observed(brief, all_agents)
    verdicts = {name: got[name] == value for name, value in case["expect"].items()}
    wrong = {name: got[name] for name, right in verdicts.items() if not right}
    if case.get("notes_mention"):
        notes = " ".join(brief.notes).lower()
        missing = [word for word in case["notes_mention"] if word.lower() not in notes]
        verdicts["notes"] = not missing
        if missing:
            wrong["notes"] = {"missing": missing, "notes": list(brief.notes)}
    return verdicts, wrong


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--catalog", default=str(DEFAULT_CATALOG), help='a catalog snapshot, or "live"')
    args = parser.parse_args(argv)
    catalog = None if args.catalog == "live" else Path(args.catalog)
    cases = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    all_agents = InputAnalyzer(**analyzer_options(catalog)).analyze(text="").agents
    right, seen = Counter(), Counter()
    whole = 0
    misses = []
    for index, case in enumerate(cases, start=1):
        verdicts, wrong = score_case(case, all_agents, catalog)
        for name, verdict in verdicts.items():
            seen[name] += 1
            right[name] += verdict
        if all(verdicts.values()):
            whole += 1
        else:
            misses.append({"line": index, "text": case["text"][:120], "wrong": wrong})
    result = {
        "requests": len(cases),
        "whole_brief_accuracy": round(whole / len(cases), 3),
        "whole_briefs_right": whole,
        "field_accuracy": {name: round(right[name] / seen[name], 3) for name in seen},
        "misses": misses,
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
