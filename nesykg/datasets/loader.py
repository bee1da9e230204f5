"""Loading datasets as train/valid/test triples of local names."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

from nesykg.errors import InputError, ParseError, UnknownNameError
from nesykg.kg.terms import dataset_namespace, mint

__all__ = ["BUILTIN", "Dataset", "dataset_info", "list_datasets", "load_dataset"]

NameTriple = tuple[str, str, str]

BUILTIN: dict[str, str] = {
    "countries_s1": "Countries S1 (Bouchard et al. 2015): neighbor/locatedin; test countries keep their subregion",
    "countries_s2": "Countries S2: test countries' subregions removed",
    "countries_s3": "Countries S3: also the neighbours' regions removed",
    "nations": "Nations (Rummel): 14 countries, 55 relations",
    "umls": "UMLS (Kok & Domingos 2007): 135 biomedical concepts, 46 relations",
    "kinship": "Alyawarra kinship (Denham): 104 people, 25 relations",
}

_SPLIT_FILES = {
    "train": ("train.txt", "train.tsv"),
    "valid": ("valid.txt", "valid.tsv", "dev.tsv", "dev.txt"),
    "test": ("test.txt", "test.tsv"),
}


@dataclass(frozen=True)
class Dataset:
    """A link-prediction dataset as triples of local names.

    Attributes:
        name: short name (``umls``), also the namespace key.
        path: folder it was read from.
        train, valid, test: ``(head, relation, tail)`` tuples in file order.
    """

    name: str
    path: Path
    train: tuple[NameTriple, ...]
    valid: tuple[NameTriple, ...] = ()
    test: tuple[NameTriple, ...] = ()
    description: str = field(default="", compare=False)

    @property
    def namespace(self) -> str:
        """IRI namespace its local names are minted into in a store."""
        return dataset_namespace(self.name)

    def iri(self, name: str) -> str:
        """IRI of local name `name` in this dataset's namespace."""
        return mint(self.namespace, name)

    @property
    def splits(self) -> dict[str, tuple[NameTriple, ...]]:
        return {"train": self.train, "valid": self.valid, "test": self.test}

    @cached_property
    def entities(self) -> tuple[str, ...]:
        """Every entity of every split, sorted."""
        return tuple(sorted({x for split in self.splits.values() for h, _, t in split for x in (h, t)}))

    @cached_property
    def relations(self) -> tuple[str, ...]:
        """Every relation of every split, sorted."""
        return tuple(sorted({r for split in self.splits.values() for _, r, _ in split}))

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, entities={len(self.entities)}, relations={len(self.relations)}, "
            f"train={len(self.train)}, valid={len(self.valid)}, test={len(self.test)})"
        )


def _builtin_root() -> Path:
    return Path(str(resources.files("nesykg.datasets") / "data"))


def list_datasets() -> dict[str, str]:
    """Built-in dataset names and one-line descriptions."""
    return dict(BUILTIN)


def dataset_info(ds: Dataset) -> dict[str, object]:
    """Sizes of a dataset, for ``--json`` output."""
    return {
        "name": ds.name,
        "path": str(ds.path),
        "entities": len(ds.entities),
        "relations": len(ds.relations),
        "train": len(ds.train),
        "valid": len(ds.valid),
        "test": len(ds.test),
    }


def _read_split(path: Path) -> tuple[NameTriple, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ParseError(path, None, f"not UTF-8 text ({e.reason})") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the file: {e.strerror or e}") from None
    out = []
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            parts = line.split()
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ParseError(path, lineno, f"expected 3 tab-separated columns (head, relation, tail), found {len(parts)}")
        out.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return tuple(out)


def _find(folder: Path, names: tuple[str, ...]) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    return None


def load_dataset(name_or_path: str | Path, name: str | None = None) -> Dataset:
    """Load a built-in dataset by name or a split folder by path.

    A folder needs a training file (``train.txt`` or ``train.tsv``); validation
    (``valid.txt|valid.tsv|dev.tsv``) and test (``test.txt|test.tsv``) files are optional.

    Args:
        name_or_path: a built-in name (case-insensitive, see `list_datasets`) or a folder.
        name: dataset name for a folder (default: the folder's name, lower-cased).
    """
    key = str(name_or_path).lower().replace("-", "_")
    if key in BUILTIN:
        folder = _builtin_root() / key
        ds_name = key
        description = BUILTIN[key]
    else:
        folder = Path(name_or_path)
        if not folder.exists():
            raise UnknownNameError("dataset", str(name_or_path), BUILTIN)
        if not folder.is_dir():
            raise InputError(f"{folder}: a dataset is a folder with train/valid/test files")
        ds_name = name or folder.resolve().name.lower()
        description = ""
    train_path = _find(folder, _SPLIT_FILES["train"])
    if train_path is None:
        raise InputError(f"{folder}: no training split (expected one of {', '.join(_SPLIT_FILES['train'])})")
    splits = {}
    for split, files in _SPLIT_FILES.items():
        p = _find(folder, files)
        splits[split] = _read_split(p) if p is not None else ()
    if not splits["train"]:
        raise InputError(f"{train_path}: the training split is empty")
    return Dataset(ds_name, folder, splits["train"], splits["valid"], splits["test"], description)
