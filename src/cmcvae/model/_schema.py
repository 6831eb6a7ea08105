"""The rules a config field's value must follow, and the reading of a config file.

A :class:`Rule` checks one value (its type, then its range or choices) and returns it in a
plain Python type; its :meth:`Rule.allowed` says in words what the field accepts, so every
refusal names the field, the value given and what is allowed. The table of field → rule is
:data:`cmcvae.model._config.FIELD_RULES`. :func:`read_mapping` reads a YAML or JSON file of
``field: value`` lines and refuses, with the file and line, one that cannot be parsed, is
empty or does not hold a mapping.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cmcvae._errors import CMCVAEInputError


class _Refused(Exception):
    """A value that breaks its rule; ``str()`` says why (the caller adds the field's name)."""


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{value!r} (a {type(value).__name__})"


def _as_number(value: Any, whole: bool) -> int | float:
    """``value`` as a Python int (``whole``) or number; booleans and text are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _Refused(f"got {_kind(value)}, not a number")
    if whole:
        if isinstance(value, numbers.Integral):
            return int(value)
        if math.isfinite(value) and float(value).is_integer():
            return int(value)
        raise _Refused(f"got {value!r}, not a whole number")
    if not math.isfinite(float(value)):
        raise _Refused(f"got {value!r}, not a finite number")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _bound(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '≥'} {_num(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '≤'} {_num(high)}")
    return " and ".join(parts)


@dataclass(frozen=True)
class Rule:
    """What one config field accepts.

    Attributes
    ----------
    kind
        ``"int"`` (a whole number), ``"float"`` (a finite number), ``"bool"``, ``"choice"``
        (one of ``choices``) or ``"list"`` (checked by ``check``, described by ``text``).
    low, high, low_open, high_open
        The range of a number (``None``: unbounded on that side; ``*_open``: excluded).
    choices
        The accepted values of a ``"choice"``; ``aliases`` maps earlier names onto them.
    text
        Words for what a ``"list"`` accepts, or a remark added to a number's range.
    check
        For a ``"list"``: returns the value (a list) or raises :class:`_Refused`.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    text: str = ""
    check: Callable[[Any], Any] | None = None

    def allowed(self) -> str:
        """What the field accepts, in words (``"a whole number ≥ 1"``)."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            names = " or ".join(repr(c) for c in self.choices)
            extra = "".join(f"; {old!r} is read as {new!r}" for old, new in self.aliases)
            return f"one of {names}{extra}"
        if self.kind == "list":
            return self.text
        noun = "a whole number" if self.kind == "int" else "a finite number"
        bound = _bound(self.low, self.high, self.low_open, self.high_open)
        return " ".join(x for x in (noun, bound, self.text) if x)

    def apply(self, value: Any) -> Any:
        """``value`` in a plain Python type if it follows the rule; else :class:`_Refused`."""
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise _Refused(f"got {_kind(value)}")
            return bool(value)
        if self.kind == "choice":
            value = dict(self.aliases).get(value, value) if isinstance(value, str) else value
            if value not in self.choices:
                raise _Refused(f"got {_kind(value)}")
            return value
        if self.kind == "list":
            assert self.check is not None
            return self.check(value)
        number = _as_number(value, whole=self.kind == "int")
        low_bad = self.low is not None and (number <= self.low if self.low_open else number < self.low)
        high_bad = self.high is not None and (number >= self.high if self.high_open else number > self.high)
        if low_bad or high_bad:
            raise _Refused(f"got {value!r}, out of range")
        return number


def whole(low: int, high: int | None = None, text: str = "") -> Rule:
    """A whole number in ``[low, high]``."""
    return Rule("int", low=low, high=high, text=text)


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False,
         high_open: bool = False, text: str = "") -> Rule:
    """A finite number in the given range."""
    return Rule("float", low=low, high=high, low_open=low_open, high_open=high_open, text=text)


def number_list(value: Any, *, length: int | None = None) -> list[int | float]:
    """A list (or tuple) of finite numbers, as a list; ``length`` items when given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _Refused(f"got {_kind(value)}, not a list")
    if length is not None and len(value) != length:
        raise _Refused(f"got {len(value)} items")
    return [_as_number(v, whole=False) for v in value]


def check_value(name: str, rule: Rule, value: Any, default: Any) -> Any:
    """``rule.apply(value)``, refusing with the field, the value, what is allowed and the default."""
    try:
        return rule.apply(value)
    except _Refused as why:
        raise CMCVAEInputError(
            f"Config field {name}: {why}. {name} must be {rule.allowed()} (default "
            f"{json.dumps(default)}); "
            f"correct it, or leave {name} out to use the default."
        ) from None


# ----------------------------------------------------------------------------- config files

class _Loader(yaml.SafeLoader):
    """YAML's safe loader that also reads ``1e-3`` (no dot) as a number, as YAML 1.2 does."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _parse(path: Path, text: str) -> Any:
    """The YAML (``.yaml``/``.yml``) or JSON content of ``path``; a parse error names the line."""
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
            if context and start is not None and start.line != getattr(mark, "line", None):
                problem += f" ({context} at line {start.line + 1})"
            raise CMCVAEInputError(
                f"Config file {path} is not valid YAML{where}: {problem}. Write one "
                "'field: value' per line (e.g. 'max_epochs: 40')."
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CMCVAEInputError(
            f"Config file {path} is not valid JSON at line {err.lineno}, column {err.colno}: "
            f"{err.msg}. Write an object such as {{\"max_epochs\": 40}} (or use a .yaml file)."
        ) from None


def read_mapping(path: str | Path) -> dict[str, Any]:
    """The ``field: value`` mapping of a YAML or JSON config file, or a clear refusal."""
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"Config file {path} does not exist. Check the path given to --config.")
    if path.is_dir():
        raise CMCVAEInputError(f"Config file {path} is a folder; give a .yaml or .json file.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise CMCVAEInputError(
            f"Config file {path} is not a text file ({err.reason} at byte {err.start}); give a "
            ".yaml or .json file of 'field: value' lines."
        ) from None
    if not text.strip():
        raise CMCVAEInputError(
            f"Config file {path} is empty. Write the fields to change, one 'field: value' per "
            "line (e.g. 'max_epochs: 40'), or leave --config out to use the defaults."
        )
    values = _parse(path, text)
    if values is None:
        raise CMCVAEInputError(
            f"Config file {path} holds no fields (only comments or blank lines). Write the fields "
            "to change, one 'field: value' per line, or leave --config out to use the defaults."
        )
    if not isinstance(values, dict):
        raise CMCVAEInputError(
            f"Config file {path} must hold a mapping of field: value (e.g. 'max_epochs: 40'), "
            f"not a {type(values).__name__}."
        )
    bad_keys = [k for k in values if not isinstance(k, str)]
    if bad_keys:
        raise CMCVAEInputError(f"Config file {path} has field names that are not text: {bad_keys}.")
    return values
