"""Setting: indoor, outdoor, or any when the request names both or neither."""

from __future__ import annotations

from collections.abc import Sequence

from .rules import LabelledPattern
from .text import labels_in, one_label


def setting_in(text: str, settings: Sequence[LabelledPattern], mixed: str) -> str | None:
    """The one setting named in `text` (read as written: "outside Nashville" is a place, not a setting)."""
    return one_label(labels_in(text, settings), mixed)
