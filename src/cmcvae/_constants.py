"""Names shared by every layer: modality keys of the data and of the run folder."""

#: MuData modality keys of the input (``docs/design.md`` §2).
RNA_MOD = "rna"
PROT_MOD = "prot"
#: Modality names used in networks and run-folder tables (``source_modality``, ``--modality``).
MODALITIES = ("rna", "protein")
