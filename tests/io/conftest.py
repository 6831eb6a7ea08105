"""Fixtures of the io tests."""

import pytest

from tests.io._helpers import N_CELLS, N_GENES, N_PROT, poisson_counts


@pytest.fixture
def toy():
    """Cells, gene and protein names and counts (cells × features)."""
    cells = [f"AAAC{i:04d}-1" for i in range(N_CELLS)]
    genes = [f"GENE{i}" for i in range(N_GENES)]
    prots = [f"CD{i}_TotalSeqB" for i in range(N_PROT)]
    return {"cells": cells, "genes": genes, "prots": prots,
            "rna": poisson_counts(N_CELLS, N_GENES, 0),
            "prot": poisson_counts(N_CELLS, N_PROT, 1, lam=30.0)}
