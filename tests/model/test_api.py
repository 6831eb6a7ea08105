import cmcvae


def test_public_namespace_reads_like_a_table_of_contents():
    assert callable(cmcvae.simulate) and callable(cmcvae.read_simulation)
    assert cmcvae.CMCVAEConfig().n_latent == 80
    for name in ("fit_run", "validate_run", "correlation_effects", "ridge_effects", "observed_effects"):
        assert callable(getattr(cmcvae.tl, name))


def test_simulate_roundtrip_through_folder(tmp_path):
    sim = cmcvae.simulate(n_cells=300, n_genes=30, n_proteins=5, n_donors=2, n_perturbations=3,
                          cells_per_perturbation=15, n_control_cells=30, seed=1)
    sim.write(tmp_path / "s")
    back = cmcvae.read_simulation(tmp_path / "s")
    assert back.mdata.shape == sim.mdata.shape
    assert (back.mdata.mod["rna"].X != sim.mdata.mod["rna"].X).nnz == 0
    import pandas as pd

    pd.testing.assert_frame_equal(back.truth, sim.truth, check_exact=False, rtol=1e-9)
