"""Formula parsing on hostile inputs: CPU seconds to build a potential from 10⁵-character formulas.

The inputs of tests/test_formula.py::test_long_formulas_are_answered_in_bounded_work (a flat sum, a run
of unary minuses, a power tower, nested parentheses, folded constants). The parser is linear: each
takes a fraction of a second; the test only bounds the work (10 s) so that a loaded CI machine passes.

    python benchmarks/bench_formula.py [--quick]
"""

import sys
import time

import newtonopt as no

INPUTS = {
    "flat sum of 50,000 terms": "x+" * 49_999 + "x",
    "99,999 unary minuses": "-" * 99_999 + "x",
    "tower of 33,000 powers": "x**" * 33_000 + "x",
    "30,000 nested parentheses": "(" * 30_000 + "x" + ")" * 30_000,
    "49,999 constants folded": "1+" * 49_999 + "x",
}


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    for name, text in INPUTS.items():
        times = []
        for _ in range(1 if quick else 3):
            t0 = time.process_time()
            no.Potential.from_expression(text)
            times.append(time.process_time() - t0)
        per_char = min(times) / len(text) * 1e6
        print(f"{name:<28} {min(times):6.3f} s CPU, {per_char:.2f} µs per character: {len(text):,} characters x 1")


if __name__ == "__main__":
    main()
