"""Candidate models against a reference, source by source: the rule that decides what is committed.

    python benchmarks/compare_sources.py benchmarks/results/real_faces.json CANDIDATE.json [...]
                                         [--markdown] [--names NAME ...]

Each file is a `real_faces.py --json` result; the first model of the first file is the reference
(the committed model). For every source the table gives each candidate's accuracy and its change
against the reference, in points; a change marked `!` is a fall of more than the reference's
standard error on that source. Sources are listed worst first, as the reference reads them. A
candidate may replace the reference only if it falls on no source by more than its standard error,
and it is worth it only if it raises the worst source: the last lines say which candidates qualify,
and by how many of the reference's standard errors the worst source moved (a rise under one is noise).
"""

import argparse
import json
from pathlib import Path


def read_results(paths: list[Path]) -> list[dict]:
    """Every model's figures from `real_faces.py` JSON files, in order."""
    results = [result for path in paths for result in json.loads(path.read_text())["results"]]
    if not all("sources" in result for result in results):
        raise SystemExit("error: a file has no per-source figures: measure it again with real_faces.py")
    return results


def by_source(result: dict) -> dict[str, dict]:
    return {row["source"]: row for row in result["sources"]}


def fell(row: dict, accuracy: float) -> bool:
    """Whether `accuracy` is below the reference's `row` by more than its standard error."""
    return accuracy < row["accuracy"] - row["se"]


def falls(reference: dict, candidate: dict) -> list[str]:
    """The sources on which `candidate` reads worse than `reference` by more than one standard error."""
    ours = by_source(candidate)
    return [name for name, row in by_source(reference).items() if fell(row, ours[name]["accuracy"])]


def worst(result: dict) -> dict:
    return min(result["sources"], key=lambda row: row["accuracy"])


def qualifies(reference: dict, candidate: dict) -> bool:
    """Whether `candidate` raises the worst source and falls on none by more than one standard error."""
    return not falls(reference, candidate) and worst(candidate)["accuracy"] > worst(reference)["accuracy"]


def verdict(reference: dict, candidate: dict) -> str:
    """The candidate's worst source, its move in points and in the reference's standard errors, the
    sources it falls on, and whether it may replace the reference."""
    lowest = worst(candidate)
    gain = lowest["accuracy"] - worst(reference)["accuracy"]
    fallen = "; ".join(falls(reference, candidate)) or "no source"
    decision = "may replace it" if qualifies(reference, candidate) else "keep the reference"
    return (f"worst {lowest['accuracy']:.1%} ({lowest['source']}), {100 * gain:+.1f} points "
            f"({gain / worst(reference)['se']:+.1f} SE); falls beyond one SE on {fallen}: {decision}")


def table(results: list[dict], names: list[str], markdown: bool) -> list[str]:
    """One row a source (the reference's worst first), one column a model."""
    reference = results[0]
    lines = []
    if markdown:
        lines += ["| source | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for row in reference["sources"]:
        cells = [f"{row['accuracy']:.1%} ± {row['se']:.1%}"]
        for result in results[1:]:
            accuracy = by_source(result)[row["source"]]["accuracy"]
            mark = "!" if fell(row, accuracy) else ""
            cells.append(f"{accuracy:.1%} ({100 * (accuracy - row['accuracy']):+.1f}{mark})")
        if markdown:
            lines.append("| " + " | ".join([row["source"], *cells]) + " |")
        else:
            lines.append(f"{row['source']:32} " + "  ".join(f"{c:>18}" for c in cells))
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json", type=Path, nargs="+", help="real_faces.py results; the first model is the reference")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--names", nargs="+", help="the models' names in the table, in order (default: each model "
                                              "file's folder)")
    args = p.parse_args()
    results = read_results(args.json)
    names = args.names or [Path(r["model"]).parent.name or Path(r["model"]).name for r in results]
    if len(names) != len(results):
        raise SystemExit(f"error: --names: {len(names)} names for {len(results)} models")
    print("\n".join(table(results, names, args.markdown)))
    reference = results[0]
    print(f"\nworst source: {names[0]} {worst(reference)['accuracy']:.1%} ({worst(reference)['source']})")
    for name, result in zip(names[1:], results[1:]):
        print(f"{name}: {verdict(reference, result)}")


if __name__ == "__main__":
    main()
