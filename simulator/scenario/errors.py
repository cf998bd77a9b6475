"""Scenario errors: one ``ScenarioError`` carrying every problem found in the input."""
from __future__ import annotations

import difflib
import reprlib
from dataclasses import dataclass
from typing import Any, Iterable

_MAX_REPR = 80
#: problems listed in one error message (all are kept in ``ScenarioError.problems``)
MAX_SHOWN = 100
#: bounded repr: never walks more than a few levels and elements of a value (an expanded YAML alias
#: bomb or a huge list costs nothing to describe), and is safe for recursive values
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 4, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = _MAX_REPR, _MAX_REPR, 40


def short_repr(value: Any) -> str:
    """``repr`` of an offending value, shortened for one-line messages (in bounded time)."""
    try:
        text = _REPR.repr(value)
    except Exception:  # pragma: no cover - exotic objects only
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def suggest(word: Any, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """Nearest valid choice to ``word`` (case-insensitive, ties go to the earlier choice), or None."""
    if not isinstance(word, str):
        return None
    best, best_score = None, cutoff
    for choice in choices:
        score = difflib.SequenceMatcher(None, word.lower(), choice.lower()).ratio()
        if score > best_score or (best is None and score == best_score):
            best, best_score = choice, score
    return best


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario input.

    ``path`` is the dotted key path (``""`` for the whole document), ``issue`` says what is wrong,
    ``expected`` what would be valid, ``suggestion`` the nearest valid key if any.
    """

    file: str
    path: str
    value: Any
    expected: str
    issue: str = "invalid value"
    suggestion: str | None = None
    show_value: bool = True

    def __str__(self) -> str:
        where = self.path or "(top level)"
        text = f"{self.file}: {where}: {self.issue}"
        if self.show_value:
            text += f" {short_repr(self.value)}"
        text += f"; expected {self.expected}"
        if self.suggestion is not None:
            text += f"; did you mean '{self.suggestion}'?"
        return text


class ScenarioError(ValueError):
    """Invalid scenario input; ``problems`` lists every problem found, ``str()`` one per line."""

    def __init__(self, problems: Problem | Iterable[Problem]):
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        shown = [str(p) for p in self.problems[:MAX_SHOWN]]
        if len(self.problems) > MAX_SHOWN:
            shown.append(f"... and {len(self.problems) - MAX_SHOWN} more problems")
        super().__init__("\n".join(shown))
