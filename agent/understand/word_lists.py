"""Reading the understand step's data files (word lists, lexicons, the injection rule table):
YAML beside the modules, checked so that a slip in the file fails loudly, not quietly.

YAML reads some bare words as other types (`no` and `on` become booleans, `1e3` a number);
a word list that holds anything but strings is refused with the file, key and entry named,
so the entry can be quoted.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import yaml


def plain(text: str) -> str:
    """`text` in lower case with its accents stripped ("Tschüss" -> "tschuss"), as the word
    lists are written."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping at the top of a YAML data file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of named lists at the top level")
    return data


def strings(path: Path, key: str, values: object) -> list[str]:
    """`values` as a list of strings; ValueError names the entry that is not one."""
    if not isinstance(values, list):
        raise ValueError(f"{path}: '{key}' must be a list")
    for value in values:
        if not isinstance(value, str):
            raise ValueError(
                f"{path}: '{key}' holds {value!r} ({type(value).__name__}), not a word; "
                "quote it in the file"
            )
    return values


def lower_case_lists(path: Path) -> dict[str, list[str]]:
    """Every named list of the data file at `path`, lower-cased; ValueError names an entry
    that is not a word."""
    data = read_yaml(path)
    return {key: [w.lower() for w in strings(path, key, values)] for key, values in data.items()}


def weights(path: Path, key: str, values: object) -> dict[str, float]:
    """`values` as a mapping of word to number; ValueError names the entry that is not one."""
    if not isinstance(values, dict):
        raise ValueError(f"{path}: '{key}' must be a mapping of word to number")
    for word, value in values.items():
        if not isinstance(word, str) or isinstance(value, bool):
            raise ValueError(f"{path}: '{key}' has entry {word!r}: {value!r}; quote the word")
        if not isinstance(value, int | float):
            raise ValueError(f"{path}: '{key}' gives {word!r} the value {value!r}, not a number")
    return {word: float(value) for word, value in values.items()}
