"""The hidden check: a secret only the instructor knows. SECRET-7f3a"""
import student


def test_run_again():
    assert student.run() == 42
