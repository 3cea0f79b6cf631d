"""MNIST: read the IDX files, verify them, split them, batch them.

Where the files are looked for, in order:

1. the ``path`` argument of :func:`load_mnist`,
2. the ``MNIST_DIR`` environment variable,
3. the repository's own ``data/mnist`` (shipped with the project),
4. a per-user cache (``$XDG_CACHE_HOME/mnist-top-layer`` or ``~/.cache/...``),
   filled by downloading the canonical ``.gz`` files from the public mirrors.

An explicit path or ``MNIST_DIR`` is authoritative: missing files are
downloaded into it, or a clear error is raised; the loader never silently
reads another copy instead.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "mnist"

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


@dataclass(frozen=True)
class MnistFile:
    name: str
    content_sha256: str  # of the decompressed IDX bytes: the same for every copy
    content_bytes: int
    mirror_gz_sha256: str  # of the .gz exactly as the mirrors serve it
    shape: tuple  # IDX dimensions


FILES = {
    "train_images": MnistFile(
        "train-images-idx3-ubyte.gz",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        47040016,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        (60000, 28, 28),
    ),
    "train_labels": MnistFile(
        "train-labels-idx1-ubyte.gz",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60008,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        (60000,),
    ),
    "test_images": MnistFile(
        "t10k-images-idx3-ubyte.gz",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        7840016,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        (10000, 28, 28),
    ),
    "test_labels": MnistFile(
        "t10k-labels-idx1-ubyte.gz",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10008,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        (10000,),
    ),
}

# The reference's split (TensorFlow's ``input_data.read_data_sets``): the FIRST
# 5,000 training images are the validation set, the remaining 55,000 are trained on.
VALIDATION_SIZE = 5000

# IDX type codes (third byte of the magic number) -> numpy dtype (big-endian)
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class MnistError(RuntimeError):
    """The MNIST files are missing, damaged or not what they claim to be."""


# ---------------------------------------------------------------- IDX format


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an IDX file into an array of the dimensions its header states.

    Header: two zero bytes, a type code, the number of dimensions, then one
    big-endian uint32 per dimension; the data follows, row-major.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise MnistError(
            f"{name}: not an IDX file (magic number {raw[:4].hex() or 'missing'}; "
            "expected 0000 followed by a type code such as 08 and the number of "
            "dimensions). Replace the file with a fresh copy."
        )
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_len:
        raise MnistError(f"{name}: IDX header is cut short ({len(raw)} bytes). Replace the file.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_len + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise MnistError(
            f"{name}: IDX header says dimensions {dims} ({expected} bytes) but the "
            f"file holds {len(raw)} bytes. Replace the file with a fresh copy."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(dims)


def read_idx(path, expected: MnistFile | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not), checking its content hash when known.

    Returns an array of the header's dimensions, e.g. (60000, 28, 28) uint8.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise MnistError(
            f"{path}: cannot be decompressed ({exc}); the file is truncated or "
            "corrupted. Delete it and copy or download it again."
        ) from None
    if expected is not None:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected.content_sha256:
            raise MnistError(
                f"{path}: checksum mismatch: SHA-256 of the decompressed content is "
                f"{actual}, expected {expected.content_sha256}. The file is damaged or "
                "not the canonical MNIST file; delete it and copy or download it again."
            )
    array = parse_idx(raw, str(path))
    if expected is not None and array.shape != expected.shape:
        raise MnistError(f"{path}: dimensions {array.shape}, expected {expected.shape}.")
    return array


# ---------------------------------------------------------------- locating and downloading


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnist-top-layer"


def _has_all_files(directory: Path) -> bool:
    return all((directory / f.name).is_file() for f in FILES.values())


def _progress(name: str, done: int, total: int | None) -> None:
    if total:
        msg = f"\rdownloading {name}: {done / total:6.1%} of {total / 1e6:.1f} MB"
    else:
        msg = f"\rdownloading {name}: {done / 1e6:.1f} MB"
    print(msg, end="", file=sys.stderr, flush=True)


def download_file(spec: MnistFile, directory: Path, mirrors=MIRRORS, timeout: float = 30.0) -> Path:
    """Download one canonical .gz into ``directory``, checked, written atomically.

    The bytes go to a temporary file beside the target and are renamed into
    place only after both checksums (the .gz's and its content's) match, so an
    interrupted or corrupted download never leaves a file under the real name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.name
    errors = []
    for mirror in mirrors:
        url = mirror + spec.name
        fd, tmp_name = tempfile.mkstemp(prefix=spec.name + ".", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                total = int(resp.headers.get("Content-Length") or 0) or None
                digest, done = hashlib.sha256(), 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    _progress(spec.name, done, total)
                print(file=sys.stderr)
            if digest.hexdigest() != spec.mirror_gz_sha256:
                raise MnistError(
                    f"{url}: checksum mismatch: SHA-256 {digest.hexdigest()}, expected {spec.mirror_gz_sha256}"
                )
            read_idx(tmp_name, spec)  # the content must verify too before it gets the real name
            os.replace(tmp_name, target)
            return target
        except (OSError, urllib.error.URLError, MnistError) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp_name):
                os.remove(tmp_name)
    raise MnistError(
        f"could not download {spec.name} into {directory}:\n  " + "\n  ".join(errors) + "\n"
        "Without internet access, copy the four MNIST .gz files into that directory "
        "(the repository ships them in data/mnist) or point MNIST_DIR at a copy."
    )


def find_mnist_dir(path=None, download: bool = True) -> Path:
    """Return the directory that holds (or now holds) the four MNIST files."""
    if path is not None or os.environ.get("MNIST_DIR"):
        # authoritative: fill it or fail, never fall back elsewhere
        origin = "path argument" if path is not None else "MNIST_DIR"
        directory = Path(path if path is not None else os.environ["MNIST_DIR"]).expanduser()
        if directory.exists() and not directory.is_dir():
            raise MnistError(f"{origin} {directory} is a file, not a directory.")
    elif _has_all_files(REPO_DATA_DIR):
        return REPO_DATA_DIR
    else:
        origin, directory = "user cache", default_cache_dir()
    missing = [f for f in FILES.values() if not (directory / f.name).is_file()]
    if missing and not download:
        raise MnistError(
            f"MNIST files missing in {directory} ({origin}): "
            + ", ".join(f.name for f in missing)
            + ". Copy them there (the repository ships them in data/mnist) or allow download."
        )
    created = [p for p in (directory, *directory.parents) if not p.exists()]  # deepest first
    try:
        for spec in missing:
            download_file(spec, directory)
    except (MnistError, OSError):
        for folder in created:  # a failed download leaves no folder it made (a non-empty one stays)
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return directory


# ---------------------------------------------------------------- splits and batches


# the precisions a run can compute in: the images' dtype is the run's (helpers.train.train casts the
# parameters to it). float64 is the default and what every stored result and notebook output uses.
DTYPES = ("float64", "float32")


def check_dtype(dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype if it is one of DTYPES; else ValueError naming the choices."""
    try:
        found = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would be float64
    except TypeError:
        found = None
    if found is None or found.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return found


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (n, 784) float64 (or float32) in [0, 1]
    labels: np.ndarray  # (n,) int64 in 0..9

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Mnist:
    train: Split  # 55,000
    validation: Split  # 5,000
    test: Split  # 10,000
    directory: Path

    def astype(self, dtype) -> "Mnist":
        """The same splits with images in ``dtype`` ("float64" or "float32"); ``self`` if they already are.
        float32 images are not made float64 again: they would keep float32's rounding under a float64 label."""
        dtype = check_dtype(dtype)
        if images_dtype(self) == dtype:
            return self
        if dtype == np.float64:
            raise ValueError(
                "these MNIST images are float32 and cannot be made float64 exactly again: pass float64 data "
                '(helpers.data.load_mnist()), or compute in float32 (dtype="float32")'
            )
        return Mnist(
            *(Split(np.asarray(s.images, dtype=dtype), s.labels) for s in (self.train, self.validation, self.test)),
            directory=self.directory,
        )


def images_dtype(data) -> np.dtype:
    """The dtype a run on ``data`` computes in: float32 if its training images are float32, else float64."""
    found = np.dtype(getattr(data.train.images, "dtype", np.float64))
    return found if found == np.float32 else np.dtype(np.float64)


def _images(raw: np.ndarray, dtype=np.float64) -> np.ndarray:
    return raw.reshape(len(raw), -1).astype(dtype) / dtype(255.0)


def load_mnist(path=None, download: bool = True, dtype="float64") -> Mnist:
    """Load MNIST as float64 images (n, 784) in [0, 1] and int64 labels (n,).

    Splits, as TensorFlow's ``input_data`` gave the reference notebook:
    validation = the first 5,000 training images, train = the remaining
    55,000, test = the 10,000 test images. ``dtype="float32"``: the images in
    float32 (half the memory), and runs on them compute in float32.
    """
    dtype = check_dtype(dtype).type
    directory = find_mnist_dir(path, download)
    raw = {key: read_idx(directory / spec.name, spec) for key, spec in FILES.items()}
    train_x, train_y = _images(raw["train_images"], dtype), raw["train_labels"].astype(np.int64)
    return Mnist(
        train=Split(train_x[VALIDATION_SIZE:], train_y[VALIDATION_SIZE:]),
        validation=Split(train_x[:VALIDATION_SIZE], train_y[:VALIDATION_SIZE]),
        test=Split(_images(raw["test_images"], dtype), raw["test_labels"].astype(np.int64)),
        directory=directory,
    )


class BatchSampler:
    """Epoch-shuffled mini-batch indices from a seeded generator.

    Every example is seen once per epoch; a batch that runs past the end of
    an epoch is completed from the start of the next (as TensorFlow's
    ``next_batch`` did for the reference notebook).
    """

    def __init__(self, n: int, batch_size: int, rng: np.random.Generator):
        if not 0 < batch_size <= n:
            raise ValueError(f"batch_size must be between 1 and {n} (the number of examples), got {batch_size}")
        self.n, self.batch_size, self.rng = n, batch_size, rng
        self._order = rng.permutation(n)
        self._pos = 0

    def next(self) -> np.ndarray:
        """Indices of the next batch, shape (batch_size,)."""
        end = self._pos + self.batch_size
        if end <= self.n:
            idx = self._order[self._pos : end]
            self._pos = end
            return idx
        head = self._order[self._pos :]
        self._order = self.rng.permutation(self.n)
        self._pos = self.batch_size - len(head)
        return np.concatenate([head, self._order[: self._pos]])
