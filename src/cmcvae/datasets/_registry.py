"""Registry of the public datasets behind the poster, with checksummed downloads.

``cmcvae data list`` shows :data:`REGISTRY`; ``cmcvae data fetch NAME`` calls :func:`fetch`, which
downloads each file with :mod:`urllib` into a temporary file beside the destination, checks the
size and checksum when they are known, and only then renames it into place (atomically), so an
interrupted or corrupt download never leaves a file under the final name.

Checksums are recorded only where a published value was found (Zenodo's file metadata, or a
public record that gives the digest of the same file); the others are ``None`` and shown as
"unknown". :func:`fetch` then reports the SHA-256 it computed so it can be recorded.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cmcvae._errors import CMCVAEInputError

_CHUNK = 1 << 20


def cache_root() -> Path:
    """Root of cmcvae's caches: ``$CMCVAE_CACHE``, else ``$XDG_CACHE_HOME/cmcvae``, else ``~/.cache/cmcvae``."""
    if os.environ.get("CMCVAE_CACHE"):
        return Path(os.environ["CMCVAE_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "cmcvae"
    return Path("~/.cache/cmcvae").expanduser()


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file of a dataset.

    Attributes
    ----------
    name
        File name written into the destination folder.
    url
        HTTPS (or ``file://``) address.
    size
        Size in bytes, when published (checked after download).
    sha256, md5
        Published checksums (hex), ``None`` when unknown. SHA-256 is preferred when both exist.
    checksum_source
        Where the size/checksum values come from.
    """

    name: str
    url: str
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    checksum_source: str | None = None

    @property
    def checksum(self) -> tuple[str, str] | None:
        """``(algorithm, hex digest)`` used for verification, or ``None`` when unknown."""
        if self.sha256:
            return "sha256", self.sha256.lower()
        if self.md5:
            return "md5", self.md5.lower()
        return None


@dataclass(frozen=True)
class DatasetInfo:
    """A registered public dataset.

    Attributes
    ----------
    name
        Registry key (``cmcvae data fetch NAME``).
    title, description
        What the data are and what cmcvae uses them for.
    cells
        Number of cells, as published (text).
    files
        The files :func:`fetch` downloads.
    license, citation, accession
        Terms of use, the paper to cite and the archive accession / DOI.
    manual_steps
        Steps to follow by hand (portal downloads, conversion before ``cmcvae prepare``).
    """

    name: str
    title: str
    description: str
    cells: str
    files: tuple[RemoteFile, ...]
    license: str
    citation: str
    accession: str
    manual_steps: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_size(self) -> int | None:
        """Sum of the file sizes, or ``None`` when any is unknown."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else int(sum(sizes))

    @property
    def checksums_known(self) -> str:
        """``"all"``, ``"none"`` or ``"k of n"`` files with a known checksum."""
        k = sum(f.checksum is not None for f in self.files)
        return "all" if k == len(self.files) else "none" if k == 0 else f"{k} of {len(self.files)}"


_GEO = "https://ftp.ncbi.nlm.nih.gov/geo"
_GEO_SIZES = "GEO series file list (filelist.txt), as recorded in a public download script"
_ZENODO_SCPERTURB = "https://zenodo.org/api/records/10044268/files"

REGISTRY: dict[str, DatasetInfo] = {
    "pbmc10k_protein_v3": DatasetInfo(
        name="pbmc10k_protein_v3",
        title="10x Genomics PBMC 10k with TotalSeq-B cell-surface proteins (v3 chemistry)",
        description=(
            "Small real starter set: one healthy donor, RNA + 17 antibody-derived tags (14 targets "
            "+ 3 isotype controls) in Cell Ranger's filtered feature-barcode matrix (.h5). Reads "
            "directly with `cmcvae prepare pbmc_10k_protein_v3_filtered_feature_bc_matrix.h5 "
            "--batch-key none`."
        ),
        cells="7,865 (Cell Ranger 3.0.0 call)",
        files=(
            RemoteFile(
                name="pbmc_10k_protein_v3_filtered_feature_bc_matrix.h5",
                url=("https://cf.10xgenomics.com/samples/cell-exp/3.0.0/pbmc_10k_protein_v3/"
                     "pbmc_10k_protein_v3_filtered_feature_bc_matrix.h5"),
                checksum_source="unknown: 10x does not publish a checksum for this file",
            ),
        ),
        license="10x Genomics public dataset, Creative Commons Attribution (CC BY 4.0)",
        citation=("10x Genomics (2018). 10k PBMCs from a Healthy Donor - Gene Expression and Cell "
                  "Surface Protein. Cell Ranger 3.0.0."),
        accession="https://www.10xgenomics.com/datasets (pbmc_10k_protein_v3)",
        manual_steps=(
            "No login needed; if the URL moves, download 'Feature / cell matrix HDF5 (filtered)' "
            "from the dataset page on 10xgenomics.com/datasets.",
            "Single donor: run `cmcvae prepare FILE.h5 --out pbmc10k.h5mu --batch-key none`.",
        ),
    ),
    "hao2021_pbmc": DatasetInfo(
        name="hao2021_pbmc",
        title="Hao et al. 2021 PBMC CITE-seq atlas, 3' panel (GEO GSE164378)",
        description=(
            "161,764 PBMCs from 8 donors (P1-P8; days 0, 3, 7 after HIV vaccination) with 228 "
            "TotalSeq-A antibodies: raw RNA (GSM5008737) and ADT (GSM5008738) counts as 10x "
            "matrix-market files, plus cell metadata (donor, time, lane, celltype.l1/l2/l3). The "
            "main training atlas (donor = batch)."
        ),
        cells="161,764 (3' CITE-seq; the 5' set is not included)",
        files=(
            RemoteFile("GSM5008737_RNA_3P-barcodes.tsv.gz",
                       f"{_GEO}/samples/GSM5008nnn/GSM5008737/suppl/GSM5008737_RNA_3P-barcodes.tsv.gz",
                       size=683_095, checksum_source=_GEO_SIZES),
            RemoteFile("GSM5008737_RNA_3P-features.tsv.gz",
                       f"{_GEO}/samples/GSM5008nnn/GSM5008737/suppl/GSM5008737_RNA_3P-features.tsv.gz",
                       size=233_354, checksum_source=_GEO_SIZES),
            RemoteFile("GSM5008737_RNA_3P-matrix.mtx.gz",
                       f"{_GEO}/samples/GSM5008nnn/GSM5008737/suppl/GSM5008737_RNA_3P-matrix.mtx.gz",
                       size=1_125_353_463, checksum_source=_GEO_SIZES),
            RemoteFile("GSM5008738_ADT_3P-barcodes.tsv.gz",
                       f"{_GEO}/samples/GSM5008nnn/GSM5008738/suppl/GSM5008738_ADT_3P-barcodes.tsv.gz",
                       size=683_095, checksum_source=_GEO_SIZES),
            RemoteFile("GSM5008738_ADT_3P-features.tsv.gz",
                       f"{_GEO}/samples/GSM5008nnn/GSM5008738/suppl/GSM5008738_ADT_3P-features.tsv.gz",
                       size=1_373, checksum_source=_GEO_SIZES),
            RemoteFile("GSM5008738_ADT_3P-matrix.mtx.gz",
                       f"{_GEO}/samples/GSM5008nnn/GSM5008738/suppl/GSM5008738_ADT_3P-matrix.mtx.gz",
                       size=104_745_344, checksum_source=_GEO_SIZES),
            RemoteFile("GSE164378_sc.meta.data_3P.csv.gz",
                       f"{_GEO}/series/GSE164nnn/GSE164378/suppl/GSE164378_sc.meta.data_3P.csv.gz",
                       size=3_119_866, checksum_source=_GEO_SIZES),
        ),
        license="GEO public data (NCBI places no restrictions; cite the authors)",
        citation=("Hao Y, et al. Integrated analysis of multimodal single-cell data. Cell "
                  "184(13):3573-3587 (2021). doi:10.1016/j.cell.2021.04.048"),
        accession="GEO GSE164378 (samples GSM5008737 RNA 3P, GSM5008738 ADT 3P)",
        manual_steps=(
            "GEO publishes sizes but no checksums: the download is checked by size only.",
            "Put each modality's three files in its own folder as barcodes.tsv.gz, features.tsv.gz, "
            "matrix.mtx.gz (drop the GSM..._3P- prefix), read them with scanpy.read_10x_mtx "
            "(ADT: gex_only=False), join the metadata CSV on the barcode, and write a MuData with "
            "modalities rna/prot and obs['donor'] (the metadata's 'donor' column, P1-P8).",
            "Then `cmcvae prepare hao2021.h5mu --out atlas.h5mu --batch-key donor`.",
            "Alternative (whole series, includes 5' and HTO data, ~1.9 GB): "
            f"{_GEO}/series/GSE164nnn/GSE164378/suppl/GSE164378_RAW.tar",
        ),
    ),
    "stephenson2021_covid": DatasetInfo(
        name="stephenson2021_covid",
        title="Stephenson et al. 2021 COVID-19 PBMC CITE-seq (ArrayExpress E-MTAB-10026)",
        description=(
            "PBMCs from 130 patients (healthy to critical COVID-19; Cambridge, Newcastle, London "
            "sites) with a 192-antibody TotalSeq-C panel. One processed AnnData: raw counts in "
            "layers['raw'], var['feature_types'] = 'Gene Expression' / 'Antibody Capture' (ADT "
            "names prefixed 'AB_'), obs with patient_id, sample_id, Site, "
            "Status_on_day_collection_summary, full_clustering. 7.2 GB: read it backed."
        ),
        cells="over 780,000 PBMCs profiled (paper); the processed file holds the QC-passed cells",
        files=(
            RemoteFile(
                name="covid_portal_210320_with_raw.h5ad",
                url=("https://www.ebi.ac.uk/biostudies/files/E-MTAB-10026/"
                     "covid_portal_210320_with_raw.h5ad"),
                size=7_187_322_881,
                sha256="ec48f328f2e884c23376c8aa1f26041e11625762be5c30b0bd0869aa8bb1a334",
                md5="add2501947c585ea6b6ef7429e4bd9f2",
                checksum_source=("public third-party record of the downloaded file "
                                 "(sushaan-k/coupling-fields-benchmark protocol); not from EBI"),
            ),
            RemoteFile(
                name="E-MTAB-10026.sdrf.txt",
                url="https://www.ebi.ac.uk/biostudies/files/E-MTAB-10026/E-MTAB-10026.sdrf.txt",
                size=155_174,
                sha256="68a27790e45b025f71f445c5ab6dbdc15d5fd74312f8d5366390759ff0580dc5",
                checksum_source=("public third-party record (sushaan-k/coupling-fields-benchmark); "
                                 "ArrayExpress may revise the SDRF, which would change it"),
            ),
        ),
        license="EMBL-EBI ArrayExpress/BioStudies public data (EMBL-EBI terms of use; cite the paper)",
        citation=("Stephenson E, et al. Single-cell multi-omics analysis of the immune response in "
                  "COVID-19. Nat Med 27:904-916 (2021). doi:10.1038/s41591-021-01329-2"),
        accession="ArrayExpress E-MTAB-10026 (BioStudies); portal covid19cellatlas.org",
        manual_steps=(
            "No login is needed for the processed h5ad (BioStudies redirects to "
            "ftp.ebi.ac.uk/biostudies/fire/E-MTAB-/026/E-MTAB-10026/Files/). If the automatic "
            "download fails: open https://www.ebi.ac.uk/biostudies/arrayexpress/studies/E-MTAB-10026, "
            "tab 'Files', tick covid_portal_210320_with_raw.h5ad and E-MTAB-10026.sdrf.txt, "
            "'Download' (or copy the FTP link and use `wget -c`), then check "
            "`sha256sum covid_portal_210320_with_raw.h5ad` against the value shown by `cmcvae data info stephenson2021_covid`.",
            "The same object is offered as 'haniffa21' on https://covid19cellatlas.org (browser "
            "download); that copy is not checksummed here.",
            "Split by var['feature_types'] into rna and prot (counts from layers['raw']), use "
            "obs['patient_id'] as donor, and drop the in-vitro LPS samples (Status "
            "'LPS_*') before `cmcvae prepare ... --batch-key donor`.",
        ),
    ),
    "frangieh2021_perturb_cite": DatasetInfo(
        name="frangieh2021_perturb_cite",
        title="Frangieh et al. 2021 Perturb-CITE-seq (melanoma + TILs) via scPerturb (Zenodo 10044268)",
        description=(
            "CRISPR-KO screen of about 250 genes in patient-derived melanoma cells under three "
            "conditions (control, IFN-gamma, T-cell co-culture) with RNA and a 24-antibody panel "
            "(20 targets + 4 isotypes). scPerturb's harmonised pair: RNA .h5ad (obs['perturbation'] "
            "= targeted gene, 'control' for non-targeting) and protein .h5ad. The perturbation "
            "validation set (`cmcvae validate --perturb`)."
        ),
        cells="218,331",
        files=(
            RemoteFile(
                name="FrangiehIzar2021_RNA.h5ad",
                url=f"{_ZENODO_SCPERTURB}/FrangiehIzar2021_RNA.h5ad/content",
                size=1_458_928_348,
                md5="dc438f53c476a3dd562898654d48ed15",
                checksum_source=("Zenodo record 10044268 file metadata (MD5), as recorded in public "
                                 "download scripts and confirmed by an independent record"),
            ),
            RemoteFile(
                name="FrangiehIzar2021_protein.h5ad",
                url=f"{_ZENODO_SCPERTURB}/FrangiehIzar2021_protein.h5ad/content",
                size=24_714_445,
                md5="9d9337e30af69ffdcf5e831f96616ed1",
                checksum_source="Zenodo record 10044268 file metadata (MD5), as recorded in a public download script",
            ),
        ),
        license="CC BY 4.0 (scPerturb Zenodo record); original data Single Cell Portal SCP1064",
        citation=("Frangieh CJ, et al. Multimodal pooled Perturb-CITE-seq screens in patient models "
                  "define mechanisms of cancer immune evasion. Nat Genet 53:332-341 (2021). "
                  "doi:10.1038/s41588-021-00779-1. Peidli S, et al. scPerturb: harmonized "
                  "single-cell perturbation data. Nat Methods 21:531-540 (2024). "
                  "doi:10.1038/s41592-023-02144-y"),
        accession="Zenodo 10.5281/zenodo.10044268 (scPerturb); Single Cell Portal SCP1064",
        manual_steps=(
            "Combine the pair into one MuData (same obs_names): rna = the RNA file, prot = the "
            "protein file; keep obs['perturbation'] (control label 'control') and "
            "obs['perturbation_2'] (condition), then `cmcvae validate RUN --perturb frangieh.h5mu`.",
            "The original counts are on the Broad Single Cell Portal (SCP1064, free Google login "
            "required): only needed to re-derive scPerturb's files.",
        ),
    ),
}


def list_datasets() -> list[DatasetInfo]:
    """The registered datasets, in registry order."""
    return list(REGISTRY.values())


def get_dataset(name: str) -> DatasetInfo:
    """Look a dataset up by name.

    Raises
    ------
    CMCVAEInputError
        For an unknown name (the message lists the known ones).
    """
    key = str(name).strip()
    if key not in REGISTRY:
        raise CMCVAEInputError(
            f"Unknown dataset {name!r}. Known datasets: {', '.join(REGISTRY)} "
            "(see `cmcvae data list`)."
        )
    return REGISTRY[key]


def default_data_dir(name: str) -> Path:
    """Default destination of a dataset: ``cache_root()/datasets/NAME``."""
    return cache_root() / "datasets" / name


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _download(rf: RemoteFile, target: Path, timeout: float,
              progress: Callable[[str, int, int | None], None] | None) -> str:
    """Download ``rf`` to a temp file beside ``target``, verify, rename. Returns the SHA-256."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    check = rf.checksum
    hashes = {"sha256": hashlib.sha256()}
    if check and check[0] != "sha256":
        hashes[check[0]] = hashlib.new(check[0])
    try:
        request = urllib.request.Request(rf.url, headers={"User-Agent": "cmcvae"})
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
                done = _stream(resp, out, rf, hashes.values(), progress)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
            reason = getattr(err, "reason", None) or err
            raise CMCVAEInputError(
                f"Could not download {rf.name} from {rf.url} ({reason}). Check the connection and "
                f"run the command again, or download the file by hand and put it at {target}."
            ) from err
        _verify(rf, done, hashes)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return hashes["sha256"].hexdigest()


def _stream(resp, out, rf: RemoteFile, hashes: Iterable,
            progress: Callable[[str, int, int | None], None] | None) -> int:
    """Copy the response to ``out`` in 1 MiB blocks, updating the hashes; returns the bytes."""
    total = rf.size
    if total is None:
        length = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
        total = int(length) if length and str(length).isdigit() else None
    done = 0
    while True:
        block = resp.read(_CHUNK)
        if not block:
            return done
        out.write(block)
        for h in hashes:
            h.update(block)
        done += len(block)
        if progress is not None:
            progress(rf.name, done, total)


def _verify(rf: RemoteFile, done: int, hashes: dict) -> None:
    """The published size and checksum (when known) of a finished download, else an error."""
    if rf.size is not None and done != rf.size:
        raise CMCVAEInputError(
            f"Download of {rf.name} is incomplete or changed: {done:,} bytes, expected "
            f"{rf.size:,}. The partial file was removed; run the command again."
        )
    if rf.checksum is not None:
        algo, expected = rf.checksum
        got = hashes[algo].hexdigest()
        if got != expected:
            raise CMCVAEInputError(
                f"Checksum mismatch for {rf.name}: {algo} {got}, expected {expected} "
                f"({rf.checksum_source or 'registry'}). The download was removed. Retry; if it "
                "fails again the upstream file has changed: check it at the source and report it."
            )


def _matches(rf: RemoteFile, path: Path) -> bool:
    check = rf.checksum
    if check is None or (rf.size is not None and path.stat().st_size != rf.size):
        return False
    return file_digest(path, check[0]) == check[1]


def fetch(name: str, dest: str | Path | None = None, force: bool = False, timeout: float = 60,
          progress: Callable[[str, int, int | None], None] | None = None) -> dict[str, dict]:
    """Download a registered dataset's files into ``dest``, verifying sizes and checksums.

    Each file is streamed into a temporary ``.part`` file in ``dest``, checked against the
    published size and checksum (when known), then renamed into place atomically; on any
    failure the temporary file is removed. An existing file is kept when its known checksum
    matches; otherwise it is only replaced with ``force``.

    Parameters
    ----------
    name
        Registry key (see :data:`REGISTRY` / ``cmcvae data list``).
    dest
        Destination folder (default :func:`default_data_dir`), created if needed.
    force
        Replace existing files.
    timeout
        Seconds to wait for the server to connect or to send data.
    progress
        Optional callback ``progress(file_name, bytes_done, bytes_total_or_None)``.

    Returns
    -------
    dict
        ``{file_name: {"path", "sha256", "verified", "status"}}`` where ``status`` is
        ``"downloaded"`` or ``"present"`` and ``verified`` says whether a published checksum was
        checked.

    Raises
    ------
    CMCVAEInputError
        Unknown name, an existing file without ``force``, too little disk space, network
        failure, or a size/checksum mismatch.
    """
    info = get_dataset(name)
    dest = Path(dest).expanduser() if dest is not None else default_data_dir(info.name)
    if dest.exists() and not dest.is_dir():
        raise CMCVAEInputError(f"--dest {dest} is a file; give a folder to download into.")
    dest.mkdir(parents=True, exist_ok=True)
    todo, results = [], {}
    for rf in info.files:
        target = dest / rf.name
        if target.exists() and not force:
            if _matches(rf, target):
                results[rf.name] = {"path": target, "sha256": rf.sha256 or file_digest(target),
                                    "verified": True, "status": "present"}
                continue
            why = ("its checksum does not match the registry" if rf.checksum is not None
                   else "it cannot be verified (no published checksum)")
            raise CMCVAEInputError(
                f"{target} already exists and {why}. Pass --force to replace it, or choose another "
                "--dest."
            )
        todo.append((rf, target))
    need = sum(rf.size or 0 for rf, _ in todo)
    free = shutil.disk_usage(dest).free
    if need and need > free:
        raise CMCVAEInputError(
            f"{info.name} needs {need / 1e9:.2f} GB in {dest} but only {free / 1e9:.2f} GB is free. "
            "Free space or choose another --dest."
        )
    for rf, target in todo:
        digest = _download(rf, target, timeout, progress)
        results[rf.name] = {"path": target, "sha256": digest, "verified": rf.checksum is not None,
                            "status": "downloaded"}
    return results
