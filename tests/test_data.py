"""The MNIST loader: content, splits, search order, and every way the files can be bad."""

import gzip
import hashlib
import shutil
import urllib.error

import numpy as np
import pytest

from helpers import data
from helpers.data import FILES, BatchSampler, MnistError, load_mnist, parse_idx, read_idx


def test_splits_shapes_dtypes_and_ranges(mnist):
    assert mnist.train.images.shape == (55000, 784)
    assert mnist.validation.images.shape == (5000, 784)
    assert mnist.test.images.shape == (10000, 784)
    for split in (mnist.train, mnist.validation, mnist.test):
        assert split.images.dtype == np.float64
        assert split.images.min() == 0.0 and split.images.max() == 1.0
        assert np.issubdtype(split.labels.dtype, np.integer)
        assert set(np.unique(split.labels)) == set(range(10))


def test_known_figures_from_the_data_readme(mnist):
    train_labels = np.concatenate([mnist.validation.labels, mnist.train.labels])
    assert np.bincount(train_labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.validation.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    all_train = np.concatenate([mnist.validation.images, mnist.train.images])
    assert round(all_train.mean(), 4) == 0.1307
    assert round(mnist.test.images.mean(), 4) == 0.1325


def test_split_is_the_references_first_5000_validate_rest_train(mnist):
    # TensorFlow's input_data: validation = train-images[:5000], train = train-images[5000:].
    raw_labels = read_idx(data.REPO_DATA_DIR / FILES["train_labels"].name, FILES["train_labels"])
    raw_images = read_idx(data.REPO_DATA_DIR / FILES["train_images"].name, FILES["train_images"])
    assert np.array_equal(mnist.validation.labels, raw_labels[:5000])
    assert np.array_equal(mnist.train.labels, raw_labels[5000:])
    assert np.array_equal(mnist.train.images[0], raw_images[5000].reshape(784) / 255.0)
    # pinned from the IDX file: image 0 (a 5) opens validation, image 5,000 (a 7) opens train
    assert mnist.validation.labels[0] == 5
    assert int(raw_labels[5000]) == mnist.train.labels[0] == 7
    assert mnist.train.labels[:5].tolist() == raw_labels[5000:5005].tolist()


def test_pixels_are_bytes_over_255(mnist):
    raw = read_idx(data.REPO_DATA_DIR / FILES["test_images"].name, FILES["test_images"])
    assert np.array_equal(mnist.test.images, raw.reshape(10000, 784) / 255.0)


def idx_bytes(array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(">u1").tobytes()


def test_parse_idx_round_trip():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(idx_bytes(array)), array)


def test_wrong_magic_number_is_named():
    raw = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    raw[0] = 0x1F
    with pytest.raises(MnistError, match="magic number"):
        parse_idx(bytes(raw), "x.idx")


def test_wrong_dimensions_are_named():
    raw = idx_bytes(np.zeros((3, 4), np.uint8))[:-2]  # header says 12 bytes of data, file has 10
    with pytest.raises(MnistError, match=r"dimensions \(3, 4\)"):
        parse_idx(raw, "x.idx")


@pytest.fixture
def mnist_copy(tmp_path):
    for spec in FILES.values():
        shutil.copy(data.REPO_DATA_DIR / spec.name, tmp_path / spec.name)
    return tmp_path


def test_explicit_path_is_used(mnist_copy):
    assert load_mnist(mnist_copy).directory == mnist_copy


def test_truncated_gz_gives_clear_error(mnist_copy):
    path = mnist_copy / FILES["train_labels"].name
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(MnistError, match="truncated or corrupted"):
        load_mnist(mnist_copy)


def test_checksum_mismatch_names_file_and_both_hashes(mnist_copy):
    spec = FILES["test_labels"]
    raw = bytearray(gzip.decompress((mnist_copy / spec.name).read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # one label changed: still a valid IDX file
    (mnist_copy / spec.name).write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(MnistError, match=spec.name) as info:
        load_mnist(mnist_copy)
    message = str(info.value)
    assert spec.name in message and spec.content_sha256 in message
    assert hashlib.sha256(bytes(raw)).hexdigest() in message


def offline(*args, **kwargs):
    raise urllib.error.URLError("network is unreachable")


def test_missing_explicit_dir_offline_fails_clearly_and_never_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    monkeypatch.setattr(data, "_progress", lambda *a: None)
    with pytest.raises(MnistError, match="could not download") as info:
        load_mnist(tmp_path / "nowhere")
    assert "MNIST_DIR" in str(info.value)  # the message names a fix
    assert not any((tmp_path / "nowhere").glob("*.part"))


def test_mnist_dir_is_authoritative(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    with pytest.raises(MnistError, match="MNIST_DIR"):
        load_mnist(download=False)


def test_repo_copy_is_used_by_default(monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    assert load_mnist().directory == data.REPO_DATA_DIR


def test_cache_is_the_last_resort(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(data, "REPO_DATA_DIR", tmp_path / "no-repo-copy")
    with pytest.raises(MnistError, match=str(tmp_path / "mnist-top-layer")):
        load_mnist(download=False)


class FakeResponse:
    """Serves bytes like urlopen's response, optionally dying part way."""

    def __init__(self, payload, die_after=None):
        self.payload, self.pos, self.die_after = payload, 0, die_after
        self.headers = {"Content-Length": str(len(payload))}

    def read(self, n):
        if self.die_after is not None and self.pos >= self.die_after:
            raise ConnectionResetError("connection reset by peer")
        chunk = self.payload[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def mirror_gz(spec):
    """The content re-gzipped: a stand-in for the mirror's file (its own .gz hash is patched)."""
    return gzip.compress(gzip.decompress((data.REPO_DATA_DIR / spec.name).read_bytes()))


def test_download_checks_and_writes_atomically(tmp_path, monkeypatch):
    spec = FILES["test_labels"]
    payload = mirror_gz(spec)
    fake_spec = data.MnistFile(
        spec.name, spec.content_sha256, spec.content_bytes, hashlib.sha256(payload).hexdigest(), spec.shape
    )
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: FakeResponse(payload))
    monkeypatch.setattr(data, "_progress", lambda *a: None)
    target = data.download_file(fake_spec, tmp_path)
    assert target == tmp_path / spec.name
    assert read_idx(target, spec).shape == (10000,)
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.name]


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    spec = FILES["train_labels"]
    payload = mirror_gz(spec)
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: FakeResponse(payload, die_after=10000))
    monkeypatch.setattr(data, "_progress", lambda *a: None)
    with pytest.raises(MnistError, match="connection reset"):
        data.download_file(spec, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_with_wrong_checksum_is_rejected(tmp_path, monkeypatch):
    spec = FILES["test_labels"]
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: FakeResponse(b"not the file"))
    monkeypatch.setattr(data, "_progress", lambda *a: None)
    with pytest.raises(MnistError, match=f"expected {spec.mirror_gz_sha256}"):
        data.download_file(spec, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_batch_sampler_covers_every_example_once_per_epoch():
    sampler = BatchSampler(10, 4, np.random.default_rng(0))
    first_epoch = np.concatenate([sampler.next() for _ in range(5)])  # 20 indices = 2 epochs
    assert sorted(first_epoch[:10]) == list(range(10))
    assert sorted(first_epoch[10:]) == list(range(10))
    assert all(len(sampler.next()) == 4 for _ in range(7))


def test_batch_sampler_is_reproducible_and_validates():
    a = BatchSampler(100, 7, np.random.default_rng(3))
    b = BatchSampler(100, 7, np.random.default_rng(3))
    assert all(np.array_equal(a.next(), b.next()) for _ in range(30))
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(10, 0, np.random.default_rng(0))
