"""Checkers for the exercises of notebook 01 (data)."""

from __future__ import annotations

import numpy as np

from ._check import _no_answer, _report, call, guarded, read_number, returned_array

__all__ = ["check_label_magic_number", "check_idx_file_size", "check_nearest_mean"]

LABEL_MAGIC = 0x00000801  # two zero bytes, type 0x08 (unsigned byte), 1 dimension
IMAGE_MAGIC = 0x00000803
TEST_IMAGES_BYTES = 4 + 4 * 3 + 10000 * 28 * 28


@guarded
def check_label_magic_number(answer) -> None:
    """Exercise: the magic number of a label file, whose first four bytes are 00 00 08 01 (an integer;
    "0x801" and "2,049"-style strings are read too)."""
    if _no_answer(answer):
        return
    value = int(read_number(answer, whole=True))
    if value == IMAGE_MAGIC:
        return _report(False, "", "that is the image files' magic number; how many dimensions does a label file have?")
    if value == int.from_bytes(bytes([0, 0, 8, 1]), "little"):
        return _report(
            False, "", "you read the bytes little-endian; IDX integers are big-endian (first byte most significant)."
        )
    if value in (1, 8):
        return _report(False, "", "the magic number is all four bytes read together as one big-endian integer.")
    return _report(
        value == LABEL_MAGIC,
        "0x08 says unsigned bytes, the last byte says one dimension.",
        "read the four bytes 00 00 08 01 as one big-endian integer (the image files' 00 00 08 03 gave 2051).",
    )


@guarded
def check_idx_file_size(answer) -> None:
    """Exercise: the size in bytes of the decompressed t10k-images file (10,000 images of 28 x 28), exact."""
    if _no_answer(answer):
        return
    value = int(read_number(answer, whole=True))
    if value == 10000 * 28 * 28:
        return _report(False, "", "that counts the pixels; the file also starts with a header.")
    if value == 47_040_016:
        return _report(False, "", "that is the training-image file; the test file holds 10,000 images.")
    if value - 10000 * 28 * 28 in (4, 8, 12):
        return _report(
            False, "", "the header is 4 bytes of magic number plus 4 bytes per dimension: how many dimensions?"
        )
    return _report(
        value == TEST_IMAGES_BYTES,
        "header plus one byte per pixel.",
        "count the header bytes (magic number and one 4-byte integer per dimension), then one byte per pixel.",
    )


def _nearest_mean(train_images, train_labels, images):
    means = np.stack([train_images[train_labels == d].mean(axis=0) for d in range(10)])
    distances = (images**2).sum(axis=1)[:, None] - 2 * images @ means.T + (means**2).sum(axis=1)
    return distances.argmin(axis=1)


def _prototype_data(seed: int):
    """Ten classes around prototypes of very different lengths (a dot product then picks the longest)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 50)) * np.linspace(0.2, 2.0, 10)[:, None]
    train_labels = np.repeat(np.arange(10), 30)
    train_images = prototypes[train_labels] + 0.3 * rng.standard_normal((300, 50))
    labels = rng.integers(0, 10, 200)
    images = prototypes[labels] + 0.3 * rng.standard_normal((200, 50))
    return train_images, train_labels, images


@guarded
def check_nearest_mean(student_fn, data=None) -> None:
    """Exercise: ``fn(train_images (n, D), train_labels (n,), images (m, D)) -> (m,)`` predicted digits:
    the class whose mean training image is nearest (Euclidean distance).

    Checked on small made-up data; with ``data`` (``load_mnist()``) a correct function is also
    run on the test split (in chunks of 2,000 images) and its accuracy is reported."""
    for seed in (0, 1):
        train_images, train_labels, images = _prototype_data(seed)
        predicted, modified = call(student_fn, train_images, train_labels, images)
        if isinstance(predicted, np.ndarray) and predicted.shape == (len(images), 10):
            return _report(False, "", "you returned a score per class; return the digit (argmin over the classes).")
        predicted = returned_array(predicted, (len(images),), "one predicted digit per image")
        if modified:
            return _report(False, "", "your function modified its inputs; compute into new arrays.")
        expected = _nearest_mean(train_images, train_labels, images)
        dot_product = (images @ np.stack([train_images[train_labels == d].mean(axis=0) for d in range(10)]).T).argmax(
            axis=1
        )
        if not np.array_equal(predicted, expected):
            if np.array_equal(predicted, dot_product):
                return _report(
                    False, "", "the largest dot product favours long (inky) means; use the smallest distance."
                )
            return _report(
                False,
                "",
                "compute the ten class means over the training images, then give each image the "
                "digit of the mean at the smallest Euclidean distance.",
            )
    if data is None:
        return _report(True, "your classifier agrees with the nearest-class-mean rule on every test image.", "")
    images, labels = data.test.images, data.test.labels
    chunks = []
    for i in range(0, len(images), 2000):
        chunk, _ = call(student_fn, data.train.images, data.train.labels, images[i : i + 2000], copy=False)
        chunks.append(returned_array(chunk, (len(images[i : i + 2000]),), "one predicted digit per image"))
    accuracy = 100 * np.mean(np.concatenate(chunks) == labels)
    return _report(
        True, f"nearest class mean classifies {accuracy:.2f}% of the {len(labels):,} test images correctly.", ""
    )


def expected_numbers() -> dict:
    """The numbers each numeric checker accepts (a notebook test fails if one is printed above its exercise)."""
    return {"check_label_magic_number": [LABEL_MAGIC], "check_idx_file_size": [TEST_IMAGES_BYTES]}
