"""Checkers of notebook 01's exercises: right answers pass, wrong ones get a hint, the answer is never printed."""

import numpy as np
import pytest

from helpers.exercises import ex01_data as ex

from checking import run


def never_shows(out, numbers):
    return all(f"{n}" not in out.replace(",", "") for n in numbers)


@pytest.mark.parametrize("checker", [ex.check_label_magic_number, ex.check_idx_file_size, ex.check_nearest_mean])
def test_no_answer_says_so_and_does_not_raise(capsys, checker):
    ok, out = run(capsys, checker, None)
    assert not ok and not out.startswith("correct")


def test_label_magic_number(capsys):
    assert run(capsys, ex.check_label_magic_number, 2049)[0]
    assert run(capsys, ex.check_label_magic_number, 2049.0)[0]
    assert run(capsys, ex.check_label_magic_number, 0x801)[0]
    ok, out = run(capsys, ex.check_label_magic_number, 2051)
    assert not ok and "dimensions" in out
    ok, out = run(capsys, ex.check_label_magic_number, 17301504)
    assert not ok and "big-endian" in out
    ok, out = run(capsys, ex.check_label_magic_number, 1)
    assert not ok and out.startswith("not yet")
    assert not run(capsys, ex.check_label_magic_number, "two thousand")[0]
    assert never_shows(out, [2049])


def test_idx_file_size(capsys):
    assert run(capsys, ex.check_idx_file_size, 7_840_016)[0]
    assert run(capsys, ex.check_idx_file_size, 7840016.0)[0]
    assert run(capsys, ex.check_idx_file_size, np.int64(7_840_016))[0]
    ok, out = run(capsys, ex.check_idx_file_size, 7_840_000)
    assert not ok and "header" in out and never_shows(out, [7840016])
    ok, out = run(capsys, ex.check_idx_file_size, 7_840_008)
    assert not ok and "dimension" in out
    ok, out = run(capsys, ex.check_idx_file_size, 47_040_016)
    assert not ok and "training" in out
    assert not run(capsys, ex.check_idx_file_size, "big")[0]


def nearest_mean(train_images, train_labels, images):
    means = np.stack([train_images[train_labels == d].mean(axis=0) for d in range(10)])
    return np.argmin(((images[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)


def test_nearest_mean(capsys):
    assert run(capsys, ex.check_nearest_mean, nearest_mean)[0]

    def dot_product(train_images, train_labels, images):
        means = np.stack([train_images[train_labels == d].mean(axis=0) for d in range(10)])
        return (images @ means.T).argmax(axis=1)

    ok, out = run(capsys, ex.check_nearest_mean, dot_product)
    assert not ok and "distance" in out

    def distances_only(train_images, train_labels, images):
        means = np.stack([train_images[train_labels == d].mean(axis=0) for d in range(10)])
        return ((images[:, None, :] - means[None]) ** 2).sum(axis=2)

    ok, out = run(capsys, ex.check_nearest_mean, distances_only)
    assert not ok and "argmin" in out

    def in_place(train_images, train_labels, images):
        images -= 0  # harmless
        train_images *= 2  # modifies the caller's array
        return nearest_mean(train_images, train_labels, images)

    ok, out = run(capsys, ex.check_nearest_mean, in_place)
    assert not ok and "modified" in out
    ok, out = run(capsys, ex.check_nearest_mean, lambda a, b, c: None)
    assert not ok and "None" in out
    ok, out = run(capsys, ex.check_nearest_mean, lambda a, b, c: 1 / 0)
    assert not ok and "ZeroDivisionError" in out


def test_nearest_mean_rule_scores_on_mnist(mnist):
    predicted = ex._nearest_mean(mnist.train.images, mnist.train.labels, mnist.test.images[:2000])
    assert 0.75 < np.mean(predicted == mnist.test.labels[:2000]) < 0.9


def test_expected_numbers():
    assert ex.expected_numbers() == {"check_label_magic_number": [2049], "check_idx_file_size": [7_840_016]}


def test_nearest_mean_reports_the_test_accuracy_on_real_data(mnist, capsys):
    ok, out = run(capsys, ex.check_nearest_mean, nearest_mean, mnist)
    assert ok and "% of the 10,000 test images" in out
    accuracy = float(out.split("classifies ")[1].split("%")[0])
    assert 75 < accuracy < 90


def test_counts_written_as_a_class_writes_them(capsys):
    for answer in ("7,840,016", "7 840 016", "7_840_016", np.float64(7_840_016)):
        assert run(capsys, ex.check_idx_file_size, answer)[0], answer
    for answer in ("0x801", "0x00000801", "2,049", np.array([2049])):
        assert run(capsys, ex.check_label_magic_number, answer)[0], answer
    ok, out = run(capsys, ex.check_idx_file_size, 7_840_016.5)
    assert not ok and "whole number" in out
    ok, out = run(capsys, ex.check_idx_file_size, "7,840,016%")
    assert not ok and "% sign" in out


def loop_nearest_mean(train_images, train_labels, images):
    means = [train_images[train_labels == d].mean(axis=0) for d in range(10)]
    return [int(np.argmin([np.sum((x - m) ** 2) for m in means])) for x in images]  # a list: the loop style


def test_nearest_mean_styles_and_wrong_returns(capsys):
    assert run(capsys, ex.check_nearest_mean, loop_nearest_mean)[0]
    float32 = lambda a, b, c: nearest_mean(a.astype(np.float32), b, c.astype(np.float32))  # noqa: E731
    assert run(capsys, ex.check_nearest_mean, float32)[0]
    ok, out = run(capsys, ex.check_nearest_mean, lambda a, b, c: (nearest_mean(a, b, c), None))
    assert not ok and "tuple" in out and "return only one predicted digit per image" in out
    ok, out = run(capsys, ex.check_nearest_mean, lambda a, b, c: nearest_mean(a, b, c)[:-1])
    assert not ok and "shape (199,)" in out
