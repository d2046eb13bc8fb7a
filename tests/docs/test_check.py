"""Tests of tests/docs/check.py: block parsing, elisions, and that a drifted output fails with a diff.

Run with `python3 -m unittest tests/docs/test_check.py` (CI runs it before the check itself).
"""
import importlib.util
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check", os.path.join(HERE, "check.py"))
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


class Matching(unittest.TestCase):
    def test_exact_lines_must_be_equal(self):
        self.assertTrue(check.matches(["welfare 31349.7028"], ["welfare 31349.7028"]))
        self.assertFalse(check.matches(["welfare 31349.7028"], ["welfare 31349.7029"]))

    def test_inline_elision_matches_within_one_line_only(self):
        self.assertTrue(check.matches(["10 runs in [..] s; done"], ["10 runs in 1.4 s; done"]))
        self.assertFalse(check.matches(["10 runs in [..] s; done"], ["10 runs in 1.4 s;", "done"]))
        self.assertFalse(check.matches(["in [..] s; 10 runs"], ["in 1.4 s; 11 runs"]))

    def test_line_elision_matches_any_number_of_lines(self):
        self.assertTrue(check.matches(["a", "...", "z"], ["a", "z"]))
        self.assertTrue(check.matches(["a", "...", "z"], ["a", "b", "c", "z"]))
        self.assertFalse(check.matches(["a", "...", "z"], ["a", "b", "y"]))

    def test_missing_or_extra_lines_fail(self):
        self.assertFalse(check.matches(["a", "b"], ["a"]))
        self.assertFalse(check.matches(["a"], ["a", "b"]))


class Pages(unittest.TestCase):
    def run_page(self, page_text, program):
        with tempfile.TemporaryDirectory() as d:
            binary = os.path.join(d, "fake")
            with open(binary, "w") as f:
                f.write("#!/bin/sh\n" + program)
            os.chmod(binary, 0o755)
            page = os.path.join(d, "page.md")
            with open(page, "w") as f:
                f.write(textwrap.dedent(page_text))
            return subprocess.run([sys.executable, os.path.join(HERE, "check.py"), "--bin", binary, page],
                                  capture_output=True, text=True)

    def test_a_matching_page_passes_and_sh_blocks_are_not_run(self):
        p = self.run_page("""
            ```sh
            simulacra this-is-not-run
            ```
            ```console
            $ simulacra
            welfare 1.5
            took [..] s
            ```
            """, 'echo "welfare 1.5"; echo "took 0.3 s"\n')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("all 1 documented commands match", p.stdout)

    def test_a_changed_number_fails_with_a_diff(self):
        p = self.run_page("""
            ```console
            $ simulacra
            welfare 1.5
            ```
            """, 'echo "welfare 1.6"\n')
        self.assertEqual(p.returncode, 1)
        self.assertIn("-welfare 1.5", p.stdout)
        self.assertIn("+welfare 1.6", p.stdout)

    def test_exit_codes_are_checked(self):
        page = """
            ```console
            $ simulacra
            ? 2
            error: bad key
            ```
            """
        self.assertEqual(self.run_page(page, 'echo "error: bad key" >&2; exit 2\n').returncode, 0)
        p = self.run_page(page, 'echo "error: bad key" >&2; exit 0\n')
        self.assertEqual(p.returncode, 1)
        self.assertIn("exit code 0, the page says 2", p.stdout)


if __name__ == "__main__":
    unittest.main()
