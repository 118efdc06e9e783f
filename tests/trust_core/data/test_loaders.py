"""The data layer on the real data sets, and its errors on missing or corrupt data."""
from __future__ import annotations

import gzip
import hashlib

import pytest

from trust_core.data import LFW, CelebA, DataMissingError, data_root, load_att_faces, load_mnist, mnist_tensors
from trust_core.data.mnist import read_idx

RAW_MD5 = {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb", "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}


def test_mnist_shapes_and_checksums():
    x, y = load_mnist("train")
    assert x.shape == (60000, 28, 28) and y.shape == (60000,)
    xt, yt = load_mnist("test")
    assert xt.shape == (10000, 28, 28) and sorted(yt.unique().tolist()) == list(range(10))
    for stem, md5 in RAW_MD5.items():
        with gzip.open(data_root() / "mnist" / f"{stem}.gz", "rb") as fh:
            assert hashlib.md5(fh.read()).hexdigest() == md5


def test_mnist_tensors_are_unit_range_floats():
    x, y = mnist_tensors("test", limit=10)
    assert x.shape == (10, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert y.tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_lfw_pairs_protocol():
    lfw = LFW()
    pairs = lfw.pairs()
    assert len(pairs) == 6000
    assert sum(p.same for p in pairs) == 3000
    assert {p.fold for p in pairs} == set(range(10))
    assert all(p.first.is_file() and p.second.is_file() for p in pairs[:50])
    assert len(lfw.pair_images()) == 7701
    assert len(lfw.images_by_person()) == 5749


def test_lfw_training_people_never_touch_pairs():
    lfw = LFW()
    train = lfw.training_people(min_images=2)
    used = lfw.pair_images()
    assert train and not any(p in used for paths in train.values() for p in paths)


def test_celeba_attributes_and_identities():
    celeba = CelebA()
    assert len(celeba.files) == 10000 and len(celeba.attribute_names) == 40
    male = celeba.attribute("Male")
    assert abs(male.mean() - 0.422) < 0.005
    assert len(set(celeba.identities.tolist())) == 5429
    with pytest.raises(ValueError, match="unknown CelebA attribute"):
        celeba.attribute("Wings")


def test_att_faces():
    x, y = load_att_faces()
    assert x.shape == (400, 1, 112, 92) and y.bincount().tolist() == [10] * 40


def test_env_var_overrides_root_and_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("APF_DATA", str(tmp_path))
    assert data_root() == tmp_path
    with pytest.raises(DataMissingError, match="apf data download lfw") as err:
        LFW()
    assert str(tmp_path) in str(err.value)


def test_truncated_idx_file_is_reported(tmp_path):
    src = data_root() / "mnist" / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(src, "rb") as fh:
        raw = fh.read()
    broken = tmp_path / "t10k-labels-idx1-ubyte"
    broken.write_bytes(raw[:5000])
    with pytest.raises(DataMissingError, match="truncated"):
        read_idx(broken)
    garbage = tmp_path / "x.gz"
    garbage.write_bytes(b"not gzip at all")
    with pytest.raises(DataMissingError, match="unreadable or corrupt"):
        read_idx(garbage)
