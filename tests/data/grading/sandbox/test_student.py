"""Calls the submission's run(); it must return 42."""
import student


def test_run():
    assert student.run() == 42
