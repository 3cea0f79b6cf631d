"""helpers.alignment: the angles are right where the answer is known, and measuring never changes a run."""

import numpy as np
import pytest

from helpers import alignment, rules
from helpers.train import TrainConfig, initial_params, seeded_streams, train


def test_the_angle_of_a_vector_with_itself_is_0_and_with_its_opposite_180(rng):
    v = rng.standard_normal((128, 10))
    assert alignment.angle_degrees(v, v) == 0.0
    assert alignment.angle_degrees(v, -v) == 180.0
    assert alignment.angle_degrees(v, 3.5 * v) == pytest.approx(0.0, abs=1e-5)


def test_orthogonal_vectors_are_90_degrees_and_a_zero_vector_has_no_angle():
    assert alignment.angle_degrees([1.0, 0.0], [0.0, 2.0]) == pytest.approx(90.0)
    assert alignment.angle_degrees([1.0, 1.0], [1.0, 0.0]) == pytest.approx(45.0)
    assert np.isnan(alignment.angle_degrees([0.0, 0.0], [1.0, 0.0]))


@pytest.fixture(scope="module")
def start():
    return initial_params(TrainConfig())


def setup(rule, params, data):
    rule.setup(params, data, seeded_streams(0)[2])
    return rule


def test_fa_with_b_equal_to_w_is_aligned_at_0_degrees_in_every_layer(mnist, start):
    fa = setup(rules.FeedbackAlignment(feedback={k: start[f"W{k}"].copy() for k in (2, 3)}), start, mnist)
    probe = alignment.probe_batch(mnist)
    assert alignment.update_angles(fa, start, probe) == {"W1": 0.0, "W2": 0.0, "W3": 0.0}
    assert alignment.feedback_angles(fa, start) == {"W2": 0.0, "W3": 0.0}


def test_random_feedback_starts_near_90_degrees_below_the_top(mnist, start):
    fa = setup(rules.make_rule("fa"), start, mnist)
    angles = alignment.update_angles(fa, start, alignment.probe_batch(mnist))
    assert angles["W3"] == 0.0  # the top layer's update is its exact gradient under every rule here
    assert 60 < angles["W2"] < 120 and 45 < angles["W1"] < 135, angles
    feedback = alignment.feedback_angles(fa, start)
    assert sorted(feedback) == ["W2", "W3"] and all(80 < a < 100 for a in feedback.values()), feedback


def test_dfa_has_no_feedback_matrices_shaped_like_the_weights(mnist, start):
    dfa = setup(rules.make_rule("dfa"), start, mnist)
    assert alignment.feedback_angles(dfa, start) == {}


def test_the_probe_is_the_first_validation_images_and_a_bad_size_is_refused(mnist):
    probe = alignment.probe_batch(mnist, 100)
    assert np.array_equal(probe.images, mnist.validation.images[:100]) and np.array_equal(
        probe.labels, mnist.validation.labels[:100]
    )
    with pytest.raises(ValueError, match="probe size must be between 1 and 5000"):
        alignment.probe_batch(mnist, 0)


def test_recording_does_not_change_the_run_and_records_the_asked_steps(mnist):
    config = TrainConfig(rule="fa", lr=0.03, steps=120, log_every=20, eval_every=40)
    params, history = train(mnist, config)
    recorder = alignment.AlignmentRecorder(
        rules.make_rule("fa"), alignment.probe_batch(mnist, 200), [0, 10, 100, 120, 500]
    )
    recorded_params, recorded = train(mnist, config, rule=recorder)
    recorder.record(120, recorded_params)
    for name in params:
        assert np.array_equal(params[name], recorded_params[name]), name
    assert recorded.losses == history.losses and recorded.test_accuracies == history.test_accuracies
    assert sorted(recorder.angles) == [0, 10, 100, 120]
    assert recorder.angles[0]["update"]["W3"] == 0.0 and sorted(recorder.angles[10]["feedback"]) == ["W2", "W3"]
    # the angles at step 0 are those of the starting weights
    fa = setup(rules.make_rule("fa"), initial_params(config), mnist)
    expected = alignment.update_angles(fa, initial_params(config), alignment.probe_batch(mnist, 200))
    assert recorder.angles[0]["update"] == pytest.approx(expected, rel=1e-9)  # train() runs BLAS on one thread
