"""Data sets: LFW (+ pairs.txt), CelebA, MNIST, AT&T faces, and the data-root rule (``$APF_DATA``)."""
from trust_core.data.att import load_att_faces
from trust_core.data.celeba import CelebA
from trust_core.data.lfw import LFW, Pair
from trust_core.data.mnist import load_mnist, mnist_tensors
from trust_core.data.root import ENV_VAR, DataMissingError, data_root, dataset_dir

__all__ = [
    "CelebA",
    "DataMissingError",
    "ENV_VAR",
    "LFW",
    "Pair",
    "data_root",
    "dataset_dir",
    "load_att_faces",
    "load_mnist",
    "mnist_tensors",
]
