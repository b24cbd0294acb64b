"""Turn locust's CSV and the desk's RSS samples into the load section of docs/benchmarks.md."""
from __future__ import annotations

import argparse
import csv
import platform
from datetime import UTC, datetime
from pathlib import Path

START, END = "<!-- load:start -->", "<!-- load:end -->"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--doc", type=Path, required=True)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.out_dir / "locust_stats.csv").open(encoding="utf-8")))
    rss = [int(x) for x in (args.out_dir / "desk_rss_kb.txt").read_text().split() if x.strip().isdigit()] \
        if (args.out_dir / "desk_rss_kb.txt").exists() else []
    lines = [START, "## Load (desk + Rasa under concurrent citizens and agents)", "",
             f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
             f"{_cpus()} CPUs, everything on 127.0.0.1 (SQLite default database, private Redis).", "",
             f"Command: `{args.command}`", "",
             "| request | count | failures | median ms | p95 ms | p99 ms | max ms | req/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['Type']} {r['Name']} | {r['Request Count']} | {r['Failure Count']} | "
                     f"{r['50%']} | {r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} | "
                     f"{float(r['Requests/s']):.2f} |")
    if rss:
        lines += ["", f"Desk resident memory during the run: start {rss[0] / 1024:.0f} MiB, "
                      f"peak {max(rss) / 1024:.0f} MiB ({len(rss)} one-second samples)."]
    lines.append(END)
    block = "\n".join(lines)
    text = args.doc.read_text(encoding="utf-8") if args.doc.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    args.doc.write_text(text, encoding="utf-8")
    print(block)


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
