"""``cmcvae predict``: a fitted run's predicted knockdown effects, queried by gene or by readout.

Two questions, one table (:func:`predict_run`):

- ``knockdown``: what changes when each listed gene is knocked down — every readout (the run's
  genes and proteins) with its predicted effect, standard error, z and p-value;
- ``readout``: which knockdowns move this readout most — every gene of the run as the
  knocked-down source.

An effect is in standard deviations of the readout when the knocked-down gene drops by one
standard deviation (the training cells' log-normalised RNA / CLR protein); its sign is the
predicted direction. The numbers come from :class:`~cmcvae.tl._effects.RunEffects` (one
estimator of :data:`cmcvae.effects.ESTIMATORS`).

Names are matched exactly, then ignoring case; a readout may also be a protein named by its
antigen (``CD4`` for ``ADT_CD4``) when exactly one protein has that antigen. An unknown name is
refused with the closest names of the run (:mod:`difflib`).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import DEFAULT_ESTIMATOR, ESTIMATORS, read_regulators
from cmcvae.io import check_files, record_files
from cmcvae.pp import canonical_antigen
from cmcvae.tl._effects import RunEffects
from cmcvae.tl._ensemble import is_ensemble, seed_runs

__all__ = ["PREDICT_COLUMNS", "predict_run"]

#: the columns of :func:`predict_run`'s table and of ``cmcvae predict --out``
PREDICT_COLUMNS = ("perturbation", "readout", "modality", "predicted_effect", "se", "z", "pvalue",
                   "estimator")
#: what separates the first column of a regulator table from the rest
#: how :func:`predict_run` may rank the rows of each knockdown (or readout)
SORT_KEYS = ("effect", "z")


def split_names(value: str | Sequence[str] | None) -> list[str] | None:
    """``"G1,G2"`` (or a list) as a list of distinct, stripped names; ``None`` stays ``None``."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _check_query(knockdown: list[str] | None, readout: list[str] | None, estimator: str,
                 top: int | None, sort_by: str) -> None:
    """The query's own options, checked before the run is read."""
    if (knockdown is None) == (readout is None):
        raise CMCVAEInputError(
            f"Give exactly one of --knockdown GENES (what changes when these genes are knocked "
            f"down) or --readout NAME (which knockdowns move this readout most); "
            f"{'both were' if knockdown is not None else 'neither was'} given."
        )
    option, names = ("--knockdown", knockdown) if knockdown is not None else ("--readout", readout)
    if not names:
        raise CMCVAEInputError(f"{option} names no feature; give names separated by commas, "
                               "e.g. TF001,TF002.")
    if estimator not in ESTIMATORS:
        raise CMCVAEInputError(f"Unknown --estimator {estimator!r}; choose one of "
                               f"{', '.join(ESTIMATORS)}.")
    if top is not None and (isinstance(top, bool) or int(top) != top or top < 1):
        raise CMCVAEInputError(f"--top {top} is out of range: use a whole number ≥ 1.")
    if sort_by not in SORT_KEYS:
        raise CMCVAEInputError(f"Unknown sort {sort_by!r}; choose one of {', '.join(SORT_KEYS)}.")


def _check_run(run: Path) -> None:
    if not is_ensemble(run):
        return
    try:
        seeds = ", ".join(str(p) for p in seed_runs(run)[:3])
    except (CMCVAEInputError, ValueError):
        seeds = str(run / "seed_0")
    raise CMCVAEInputError(
        f"{run} is a seeds ensemble (`cmcvae fit --seeds`); predictions come from one fitted "
        f"run: give one seed's folder instead (e.g. {seeds}). Comparing the seeds' tables "
        "shows how much the predictions depend on the seed."
    )


def _antigen(name: str) -> str:
    try:
        return canonical_antigen(name).casefold()
    except CMCVAEInputError:
        return name.casefold()


def _resolve(name: str, features: list[str], proteins: list[str]) -> str | None:
    """The feature ``name`` means: exact, then ignoring case, then a protein by its antigen."""
    if name in features:
        return name
    folded = [f for f in features if f.casefold() == name.casefold()]
    if folded:  # two features differing only in case: ambiguous
        return folded[0] if len(folded) == 1 else None
    key = _antigen(name)
    by_antigen = [p for p in proteins if _antigen(p) == key]
    return by_antigen[0] if len(by_antigen) == 1 else None


def _closeness(name: str, feature: str) -> tuple[float, int]:
    """How alike two names are: difflib's ratio (ignoring case), then fewer differing letters."""
    a, b = name.casefold(), feature.casefold()
    differ = sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
    return difflib.SequenceMatcher(None, a, b).ratio(), -differ


def _suggest(name: str, features: list[str]) -> str:
    scored = sorted(((_closeness(name, f), f) for f in features), reverse=True)
    close = [f for (ratio, _), f in scored[:3] if ratio >= 0.6]
    return f"{name!r} (did you mean {' or '.join(repr(c) for c in close)}?)" if close else repr(name)


def resolve_names(names: list[str], features: list[str], proteins: list[str],
                  option: str) -> list[str]:
    """The features ``names`` mean, in order; unknown names refused with close matches."""
    found = {n: _resolve(n, features, proteins) for n in names}
    unknown = [n for n, f in found.items() if f is None]
    if unknown:
        shown = "; ".join(_suggest(n, features) for n in unknown[:10])
        what = "genes or proteins" if option == "--readout" else "genes"
        raise CMCVAEInputError(
            f"{option}: {len(unknown)} name(s) are not {what} of the run: {shown}. Use the run's "
            "feature names (as in its training data)."
        )
    return list(dict.fromkeys(found[n] for n in names))


def _refuse_proteins(sources: list[str], proteins: list[str], pairs: pd.DataFrame | None) -> None:
    bad = [s for s in sources if s in set(proteins)]
    if not bad:
        return
    genes = {}
    if pairs is not None and {"protein", "gene"} <= set(pairs.columns):
        genes = dict(zip(pairs["protein"].astype(str), pairs["gene"].astype(str), strict=True))
    hint = "; ".join(f"{p} is encoded by {genes[p]}" for p in bad if p in genes)
    raise CMCVAEInputError(
        f"--knockdown: only genes can be knocked down, and {', '.join(bad)} "
        f"{'is a protein' if len(bad) == 1 else 'are proteins'} of the run"
        + (f" ({hint}: knock that gene down instead)" if hint else "")
        + ". Ask which knockdowns move a protein with --readout instead."
    )


def rank_effects(table: pd.DataFrame, by: str, order: list[str], *, sort_by: str = "effect",
                 top: int | None = None) -> pd.DataFrame:
    """Rows grouped by ``by`` (in ``order``), each group ranked by ``|effect|`` or ``|z|``.

    Ties (and rows without a z, when ranking by z) are broken by the other key; rows with a
    missing key come last. ``top`` keeps the first rows of each group.
    """
    keys = {"effect": table["predicted_effect"].abs(), "z": table["z"].abs()}
    second = "z" if sort_by == "effect" else "effect"
    rank = table.assign(_group=table[by].map({name: i for i, name in enumerate(order)}),
                        _first=keys[sort_by], _second=keys[second])
    rank = rank.sort_values(["_group", "_first", "_second"], ascending=[True, False, False],
                            na_position="last", kind="stable")
    if top is not None:
        rank = rank.groupby("_group", sort=False).head(int(top))
    return rank.drop(columns=["_group", "_first", "_second"]).reset_index(drop=True)


def _check_out(out: Path | None, force: bool, inputs: dict[str, Any]) -> None:
    if out is None:
        return
    if out.is_dir():
        raise CMCVAEInputError(f"--out {out} is a folder; give a file name, e.g. {out / 'predictions.csv'}.")
    check_files(out.parent, [out.name], command="predict", force=force, inputs=inputs,
                what="folder")


def _write(table: pd.DataFrame, out: Path) -> None:
    record_files(out.parent, [out.name], "predict")
    table.to_csv(out, index=False)


def _estimate_by_modality(effects: RunEffects, estimator: str, sources: list[str] | None,
                          readouts: list[str] | None) -> pd.DataFrame:
    """The long table of one estimate per readout modality (a gene and a protein may share a
    name, e.g. ``CD274``: a readout name then gives both rows)."""
    stats, parts = effects.stats, []
    for modality, names in (("rna", stats.genes), ("protein", stats.proteins)):
        wanted = names if readouts is None else [r for r in readouts if r in set(names)]
        if wanted:
            est = effects.estimate(estimator, sources=sources, readouts=wanted,
                                   readout_modality=modality)
            parts.append(est.to_frame())
    return pd.concat(parts, ignore_index=True)


def predict_run(run: str | Path, *, knockdown: str | Sequence[str] | None = None,
                readout: str | Sequence[str] | None = None, estimator: str = DEFAULT_ESTIMATOR,
                regulators: str | Path | Sequence[str] | None = None, data: Any = None,
                top: int | None = None, sort_by: str = "effect", out: str | Path | None = None,
                force: bool = False) -> pd.DataFrame:
    """Predicted knockdown effects of a fitted run, with their uncertainty.

    Give exactly one of ``knockdown`` (what changes when these genes are knocked down: every
    readout, for each gene) or ``readout`` (which knockdowns move this readout most: every
    gene of the run as the source).

    Parameters
    ----------
    run
        Run folder written by :func:`fit_run` (``cmcvae fit``); one seed's folder of an ensemble.
    knockdown
        Genes to knock down: names, or one comma-separated string (``"TF001,TF002"``).
    readout
        Genes or proteins to read out (a protein may be named by its antigen, ``CD4`` for
        ``ADT_CD4``, when that is unambiguous); names or a comma-separated string.
    estimator
        A key of :data:`cmcvae.effects.ESTIMATORS` (default
        :data:`cmcvae.effects.DEFAULT_ESTIMATOR`).
    regulators
        A regulator (TF) list file or names, overriding the sources of the run's GRN prior.
    data
        Training data of the run (path or MuData; ``None``: the file recorded in ``run.json``).
    top
        Keep the ``top`` first rows of each knockdown (or readout); ``None`` keeps all.
    sort_by
        Rank rows by ``"effect"`` (``|predicted_effect|``, default) or ``"z"`` (``|z|``); the
        other breaks ties. Estimators without standard errors (``ridge``, ``propagate``) have
        no z: their rows rank by ``|effect|`` either way.
    out
        Write the full table (every row, whatever ``top``) to this CSV file. Its folder's
        ``.cmcvae-manifest.json`` records it.
    force
        Replace ``out`` if ``cmcvae predict`` wrote it; any other existing file is refused.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PREDICT_COLUMNS`: ``perturbation`` (the knocked-down gene), ``readout``,
        ``modality`` (``rna`` / ``protein``), ``predicted_effect`` (the readout's change in
        its standard deviations when the gene drops by one standard deviation; the sign is
        the direction), ``se``, ``z`` (effect / se), ``pvalue`` (two-sided, normal) and
        ``estimator``. Grouped by knockdown (or readout) in the order given, ranked in each.

    Raises
    ------
    CMCVAEInputError
        Both or neither of ``knockdown`` / ``readout``; an unknown name (with close matches);
        a protein to knock down; an ensemble folder; an estimator the run cannot use; an
        ``out`` that exists and was not written by ``cmcvae predict`` (or without ``force``).
    """
    run, knockdown, readout = Path(run), split_names(knockdown), split_names(readout)
    _check_query(knockdown, readout, estimator, top, sort_by)
    _check_run(run)
    inputs = {label: value for label, value in (("--regulators", regulators), ("--data", data))
              if isinstance(value, (str, Path))}
    out = None if out is None else Path(out)
    _check_out(out, force, inputs)
    if isinstance(regulators, (str, Path)):
        regulators = read_regulators(regulators)
    effects = RunEffects(run, data=data, regulators=regulators)
    features, proteins = [str(n) for n in effects.stats.names], effects.stats.proteins
    if knockdown is not None:
        sources = resolve_names(knockdown, features, proteins, "--knockdown")
        _refuse_proteins(sources, proteins, getattr(effects.model, "pairs", None))
        table = _estimate_by_modality(effects, estimator, sources, None)
        by, order = "perturbation", sources
    else:
        readouts = resolve_names(readout, features, proteins, "--readout")
        table = _estimate_by_modality(effects, estimator, None, readouts)
        by, order = "readout", readouts
    table = table.assign(estimator=estimator)
    table = rank_effects(table[list(PREDICT_COLUMNS)], by, order, sort_by=sort_by)
    if out is not None:
        _write(table, out)
    return table if top is None else rank_effects(table, by, order, sort_by=sort_by, top=top)
