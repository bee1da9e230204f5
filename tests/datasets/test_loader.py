from __future__ import annotations

import pytest

from nesykg.datasets import list_datasets, load_dataset
from nesykg.errors import InputError, ParseError, UnknownNameError
from tests.conftest import write_tsv

EXPECTED = {  # entities, relations, train, valid, test (from the source repositories)
    "countries_s1": (271, 2, 1111, 24, 24),
    "countries_s2": (271, 2, 1063, 24, 24),
    "countries_s3": (271, 2, 985, 24, 24),
    "nations": (14, 55, 1592, 199, 201),
    "umls": (135, 46, 5216, 652, 661),
    "kinship": (104, 25, 8544, 1068, 1074),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_datasets_ship_with_the_package(name):
    ds = load_dataset(name)
    assert (len(ds.entities), len(ds.relations), len(ds.train), len(ds.valid), len(ds.test)) == EXPECTED[name]
    assert ds.namespace == f"urn:nesykg:ds:{name}:"
    assert list(ds.entities) == sorted(ds.entities)


def test_names_are_case_insensitive_and_listed():
    assert set(list_datasets()) == set(EXPECTED)
    assert load_dataset("UMLS").name == "umls"
    assert load_dataset("Countries-S1").name == "countries_s1"


def test_split_folder_with_dev_tsv(tmp_path):
    write_tsv(tmp_path / "train.tsv", [("a", "r", "b"), ("b", "r", "c")])
    write_tsv(tmp_path / "dev.tsv", [("a", "r", "c")])
    write_tsv(tmp_path / "test.tsv", [("c", "s", "a")])
    ds = load_dataset(tmp_path, name="toy")
    assert (ds.name, len(ds.train), len(ds.valid), len(ds.test)) == ("toy", 2, 1, 1)
    assert ds.relations == ("r", "s")


def test_split_folder_with_txt_files_and_missing_splits(tmp_path):
    (tmp_path / "train.txt").write_text("x\tp\ty\n")
    ds = load_dataset(tmp_path)
    assert ds.name == tmp_path.name.lower() and ds.valid == () and ds.test == ()


def test_unknown_dataset_suggests_names():
    with pytest.raises(UnknownNameError, match=r"unknown dataset 'umsl'; did you mean 'umls'"):
        load_dataset("umsl")


def test_folder_without_training_split(tmp_path):
    (tmp_path / "test.txt").write_text("x\tp\ty\n")
    with pytest.raises(InputError, match="no training split"):
        load_dataset(tmp_path)


def test_malformed_split_names_file_and_line(tmp_path):
    (tmp_path / "train.txt").write_text("x\tp\ty\nbroken line with\ttwo\n")
    with pytest.raises(ParseError, match=r"train\.txt:2: expected 3 tab-separated columns"):
        load_dataset(tmp_path)
