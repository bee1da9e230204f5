"""Datasets: the small public KGs shipped with nesykg and loaders for split folders.

>>> from nesykg.datasets import load_dataset
>>> ds = load_dataset("umls")           # shipped; offline
>>> ds = load_dataset("/data/codex-s")  # any folder with train/valid/test files
"""

from nesykg.datasets.loader import BUILTIN, Dataset, dataset_info, list_datasets, load_dataset

__all__ = ["BUILTIN", "Dataset", "dataset_info", "list_datasets", "load_dataset"]
