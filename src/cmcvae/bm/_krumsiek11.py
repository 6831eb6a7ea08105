"""krumsiek11: myeloid differentiation Boolean network (Krumsiek et al. 2011, PLoS ONE).

The simulated trajectories and the Boolean model are the files scanpy ships
(``scanpy/datasets/krumsiek11.txt`` and ``scanpy/sim_models/krumsiek11.txt``). The signed,
directed ground truth is read off the Boolean update rules.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._dataset import GraphDataset, as_root, clean_edges, first_existing

_DATA = "krumsiek11_simulated_data.txt"
_MODEL = "krumsiek11_boolean_model.txt"
_HINT = (
    "Both files ship with scanpy: scanpy/datasets/krumsiek11.txt (save it as "
    f"{_DATA}) and scanpy/sim_models/krumsiek11.txt (save it as {_MODEL})."
)
_KEYWORDS = {"and", "or", "not"}
_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_.]+)")


def _tokenize(expr: str, where: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise CMCVAEInputError(f"{where}: cannot parse {expr[pos:]!r} in rule {expr!r}.")
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


def parse_boolean_rule(expr: str, where: str = "rule") -> dict[str, int]:
    """Signed regulators of one Boolean update rule.

    A regulator under an odd number of ``not`` (``not X``, ``not (X and Y)``) inhibits (-1),
    otherwise it activates (+1); one that appears with both signs gets 0.

    Parameters
    ----------
    expr : str
        Right-hand side, e.g. ``"(Cebpa or Pu.1) and not (Gata1 or Gata2)"``. Empty = input.
    where : str
        Location for error messages.

    Returns
    -------
    dict
        Regulator name → +1, -1 or 0, in order of first appearance.
    """
    return _RuleParser(expr, where).signs()


class _RuleParser:
    """Recursive descent over ``operand ((and | or) operand)*``, ``operand = not operand | (…) | name``.

    Each name is recorded with the polarity of the ``not``s above it.
    """

    def __init__(self, expr: str, where: str) -> None:
        self.expr, self.where = expr, where
        self.tokens = _tokenize(expr, where)
        self.pos = 0
        self.found: dict[str, int] = {}

    def signs(self) -> dict[str, int]:
        """Parse the whole rule; regulator → +1, -1 or 0 in order of first appearance."""
        if self.tokens:
            self._expression(1)
            if self.pos != len(self.tokens):
                raise self._error(f"unexpected {self.tokens[self.pos]!r} in rule")
        return self.found

    def _error(self, what: str) -> CMCVAEInputError:
        return CMCVAEInputError(f"{self.where}: {what} {self.expr!r}.")

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _expression(self, polarity: int) -> None:
        self._operand(polarity)
        while self._peek() in ("and", "or"):
            self.pos += 1
            self._operand(polarity)

    def _operand(self, polarity: int) -> None:
        tok = self._peek()
        if tok is None:
            raise CMCVAEInputError(
                f"{self.where}: rule {self.expr!r} ends where an operand is expected.")
        self.pos += 1
        if tok == "not":
            self._operand(-polarity)
        elif tok == "(":
            self._expression(polarity)
            if self._peek() != ")":
                raise self._error("unbalanced parentheses in rule")
            self.pos += 1
        elif tok in _KEYWORDS or tok == ")":
            raise self._error(f"unexpected {tok!r} in rule")
        else:
            prev = self.found.get(tok)
            self.found[tok] = polarity if prev in (None, polarity) else 0


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CMCVAEInputError(f"Could not read {path}: {err}") from None


def _read_model(
    path: Path,
) -> tuple[list[tuple[str, str, int]], list[str], dict[tuple[str, str], float]]:
    """Rules as (regulator, target, sign) in file order, the rule targets, and the couplings."""
    lines = _read_lines(path)
    edges: list[tuple[str, str, int]] = []
    targets: list[str] = []
    coupling: dict[tuple[str, str], float] = {}
    for k, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" in line:
            lhs, rhs = (s.strip() for s in line.split("=", 1))
            if not re.fullmatch(r"[A-Za-z0-9_.]+", lhs):
                raise CMCVAEInputError(f"{path}:{k}: bad variable name {lhs!r}.")
            targets.append(lhs)
            for reg, sign in parse_boolean_rule(rhs, f"{path}:{k}").items():
                edges.append((reg, lhs, sign))
        else:  # coupling list: target, regulator, strength (scanpy sim model format)
            parts = line.split()
            if len(parts) == 3:
                try:
                    coupling[(parts[1], parts[0])] = float(parts[2])
                except ValueError:
                    raise CMCVAEInputError(f"{path}:{k}: cannot parse {raw!r}.") from None
            else:
                raise CMCVAEInputError(f"{path}:{k}: cannot parse {raw!r}.")
    if not targets:
        raise CMCVAEInputError(f"{path}: no Boolean update rules ('Gene = expression') found.")
    return edges, targets, coupling


def _read_data(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The simulated table: '#' lines (``key = value`` settings, last one = column header)."""
    lines = _read_lines(path)
    header: list[str] | None = None
    settings: dict[str, str] = {}
    rows: list[list[float]] = []
    for k, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            if "=" in body:
                key, value = (s.strip() for s in body.split("=", 1))
                settings[key] = value
            elif body and not rows:
                header = body.split()
            continue
        if header is None:
            raise CMCVAEInputError(f"{path}: no '# it <gene> ...' header line before the data.")
        parts = line.split()
        if len(parts) != len(header):
            raise CMCVAEInputError(
                f"{path}:{k}: {len(parts)} values for {len(header)} header columns."
            )
        try:
            rows.append([float(p) for p in parts])
        except ValueError:
            raise CMCVAEInputError(f"{path}:{k}: non-numeric value in {raw!r}.") from None
    if header is None or not rows:
        raise CMCVAEInputError(f"{path}: no data rows found.")
    return pd.DataFrame(rows, columns=header), settings


def load_krumsiek11(root: str | Path) -> GraphDataset:
    """Load scanpy's krumsiek11 simulation with the signed network of its Boolean model.

    Parameters
    ----------
    root : str or Path
        Folder holding ``krumsiek11_simulated_data.txt`` and ``krumsiek11_boolean_model.txt``.

    Returns
    -------
    GraphDataset
        ``X`` is 640 time points × 11 genes (4 realizations × 160 steps of a stochastic Hill
        ODE simulation, concatenated; continuous values, not counts). ``truth`` has an edge
        regulator → target for each variable on a rule's right-hand side, -1 under ``not``,
        +1 otherwise; self-loops (autoactivation of Gata2, Gata1, Cebpa, Pu.1) are dropped.
        ``meta["iteration"]`` and ``meta["realization"]`` label each row, and
        ``meta["coupling_sign_agreement"]`` counts edges whose sign matches the model's
        coupling list.

    Raises
    ------
    CMCVAEInputError
        Missing files, unparsable rules or data, or genes in the rules absent from the data.
    """
    root = as_root(root, "krumsiek11 files", _HINT)
    data_path = first_existing(root, [_DATA], "krumsiek11 simulated data", _HINT)
    model_path = first_existing(root, [_MODEL], "krumsiek11 Boolean model", _HINT)
    table, settings = _read_data(data_path)
    it_col = table.columns[0] if table.columns[0].lower() in ("it", "iteration", "time") else None
    genes_df = table.drop(columns=[it_col]) if it_col else table
    features = [str(c) for c in genes_df.columns]

    rule_edges, targets, coupling = _read_model(model_path)
    in_rules = set(targets) | {r for r, _, _ in rule_edges}
    absent = sorted(in_rules - set(features))
    if absent:
        raise CMCVAEInputError(
            f"{model_path}: genes {absent} of the Boolean model are not columns of {data_path}."
        )
    edges = pd.DataFrame(rule_edges, columns=["source", "target", "weight"])
    truth, info = clean_edges(edges, features)
    agree = sum(
        int(np.sign(coupling[(s, t)]) == w)
        for s, t, w in truth.itertuples(index=False)
        if (s, t) in coupling
    )

    meta: dict = {
        "description": (
            "krumsiek11: myeloid progenitor Boolean network (Krumsiek et al. 2011) simulated "
            "with scanpy's Hill-function ODE model"
        ),
        "source": "scanpy datasets/krumsiek11.txt and sim_models/krumsiek11.txt (BSD-3-Clause)",
        "path": str(data_path),
        "n_cells": len(genes_df),
        "n_genes": len(features),
        "n_edges": len(truth),
        "simulation_settings": settings,
        "coupling_sign_agreement": f"{agree}/{len(truth)}",
        **info,
    }
    if it_col is not None:
        it = table[it_col].to_numpy()
        meta["iteration"] = it.astype(np.int64)
        meta["realization"] = np.concatenate([[0], np.cumsum(np.diff(it) < 0)]).astype(np.int64)
    return GraphDataset(
        name="krumsiek11",
        family="krumsiek11",
        X=genes_df.to_numpy(dtype=np.float64),
        features=features,
        truth=truth,
        modality="rna",
        counts=False,
        meta=meta,
    )
