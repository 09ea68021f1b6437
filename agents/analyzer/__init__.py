"""InputAnalyzer: turns a party request in plain words and/or structured fields into a validated Brief.

Pure Python with no framework or database access. The package follows the analysis's stages:
`loading` (the rules file, agents/rules/analyzer.yaml, the single source of every vocabulary),
`text` (normalisation), one module per field (`party_type`, `guests`, `dates`, `city`, `budget`,
`diets`, `themes`, `age`, `setting`, `skips`), and `facade` (the InputAnalyzer that runs them).
Dates, number words and money are read by dateparser, text2num and price-parser.
"""

from .brief import Brief, BriefOutOfRange, CityRef
from .facade import FALLBACK_NOTE, STRUCTURED_FIELDS, CatalogLimits, InputAnalyzer
from .loading import DEFAULT_RULES_PATH, load_rules
from .party_type import Classifier
from .rules import AnalyzerRules

__all__ = [
    "DEFAULT_RULES_PATH",
    "FALLBACK_NOTE",
    "STRUCTURED_FIELDS",
    "AnalyzerRules",
    "Brief",
    "BriefOutOfRange",
    "CatalogLimits",
    "CityRef",
    "Classifier",
    "InputAnalyzer",
    "load_rules",
]
