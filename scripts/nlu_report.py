"""Markdown for the NLU evaluation: the report block of docs/benchmarks.md and the target check.

Used by scripts/eval_nlu.py (bot environment); stdlib only.
"""
from __future__ import annotations

import math
from pathlib import Path

START, END = "<!-- nlu-eval:start -->", "<!-- nlu-eval:end -->"


def render(report: dict) -> str:
    r = report
    lines = [
        START,
        "## NLU evaluation (held-out split)",
        "",
        f"Measured {r['date']} on {r['machine']}. Command (repository root):",
        "",
        f"    {r['command']}",
        "",
        f"Split: seed {r['seed']}, {int(r['fraction'] * 100)}% of every intent (out_of_scope per sub-kind) held out, "
        "chosen by a hash of seed, intent and text; "
        f"{r['n_train']} training / {r['n_test']} test examples over {r['n_topics']} topic intents. "
        f"Generated variants (data/nlu/generated_variants.yml) are only trained on; {r['dropped']} held-out "
        f"questions were dropped because they equal a training text after normalisation or resemble a generated "
        f"variant (char-bigram Jaccard >= {r['similar']}). The split moves with the data, but its errors "
        "guided each round of data and model work (`--errors`), so read it as a development score; the "
        "independent questions below are the check written apart from the training data.",
        "",
        "| model | top-1 accuracy (parse result) | top-1 ignoring nlu_fallback | training time |",
        "| --- | --- | --- | --- |",
        f"| ours (`{r.get('config', 'bot/config.yml')}`) | **{r['ours_acc']:.3f}** | {r['ours_raw']:.3f} | "
        f"{r['ours_train_s']:.0f} s |",
        f"| baseline (Jieba + CountVectors + DIET, {r['baseline_epochs']} epochs) | {_num(r['base_acc'])} | "
        f"{_num(r['base_raw'])} | {_num(r['base_train_s'], '.0f')} s |",
        "",
        "Baseline: Rasa's JiebaTokenizer (no user dictionary) + one CountVectorsFeaturizer + DIETClassifier "
        f"with Rasa's defaults except {r['baseline_epochs']} epochs (DIET's default is 300, about two hours "
        "here: `bash scripts/eval.sh --baseline-epochs 300`); "
        "trained and run in a process of its own, so our jieba dictionary never reaches it.",
        "",
        f"Difference: {_num(100 * (r['ours_acc'] - r['base_acc']), '+.1f')} points. "
        f"Lowest per-topic recall (ours): {r['min_recall'][0]} {r['min_recall'][1]:.2f}. "
        f"out_of_scope sub-kind (OutOfScopeKindSelector) accuracy: {r['rs_acc']:.3f} on {r['rs_n']} examples; "
        f"the refusal names the sub-kind only at confidence >= {r['rs_named_min']} — "
        f"{r['rs_named'][0]:.0%} of them, {r['rs_named'][1]:.3f} correct. "
        f"A close second topic (>= {r['runner_up_min']}) is offered first under {r['runner_up'][0]:.1%} of the "
        f"answers; the right topic is the answer or that first button for **{r['runner_up'][1]:.3f}** of the "
        "test questions.",
        "",
        f"Targets (top-1 >= 0.95, >= 3 points above baseline, every recall >= 0.85, p95 <= 60 ms): {r['targets']}.",
        "",
        *_unseen_lines(r),
        f"`/model/parse` latency over HTTP (real `rasa run --enable-api`, sequential, {r['lat_n']} requests after "
        f"warm-up): **p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms**.",
        "",
        "Fallback threshold sweep (ours, test split): share of test questions that would fall back, and accuracy of "
        "the rest.",
        "",
        "| threshold | fallback rate | accuracy of answered |",
        "| --- | --- | --- |",
    ]
    for t, rate, acc in r["sweep"]:
        lines.append(f"| {t:.2f} | {rate:.3f} | {acc:.3f} |")
    lines += ["", "Most frequent confusions (ours; gold → predicted):", "",
              "| gold | predicted | count |", "| --- | --- | --- |"]
    for (g, p), n in r["confusions"]:
        lines.append(f"| {g} | {p} | {n} |")
    if not r["confusions"]:
        lines.append("| — | — | 0 |")
    lines += ["", "Per-topic precision / recall (ours | baseline):", "",
              "| topic | precision | recall | baseline precision | baseline recall | test n |",
              "| --- | --- | --- | --- | --- | --- |"]
    base = {row[0]: row for row in r["base_rows"]}
    for label, p, rc, n in r["ours_rows"]:
        b = base.get(label, (label, math.nan, math.nan, n))
        lines.append(f"| {label} | {p:.2f} | {rc:.2f} | {_num(b[1], '.2f')} | {_num(b[2], '.2f')} | {n} |")
    lines.append(END)
    return "\n".join(lines)


def _num(x: float, spec: str = ".3f") -> str:
    """A figure, or n/a when it was not measured (NaN: the baseline was skipped)."""
    return "n/a" if math.isnan(x) else format(x, spec)


_SET_NOTES = {
    "tests/bot/unseen_questions.yml": "written from the topic list only, without looking at the training data",
    "tests/bot/hard_questions.yml": "a second writer, topic list only, eight styles per topic (situations "
                                    "without the official term, dialect, rambling, fragments, typos, pinyin/English, "
                                    "traditional, emoji); see the file's header",
    "tests/bot/third_questions.yml": "a third writer, topic list only, eight styles per topic (situations, one "
                                     "aspect, fragments, rambling, regional speech, typos/pinyin/English, "
                                     "traditional, a confusable neighbour's words); see the file's header",
    "tests/bot/fourth_questions.yml": "a fourth writer, topic list only, eight personas per topic (retiree, "
                                      "migrant worker, office worker, young parent, shop owner, hurried, one "
                                      "detail, a neighbour's words); see the file's header",
}


def _unseen_lines(r: dict) -> list:
    lines: list = []
    for u in r.get("unseen") or []:
        note = _SET_NOTES.get(u["file"], "written without the training data")
        lines += [
            f"Independent questions (`{u['file']}`: {u['n']} questions, {note}; never trained on): top-1 "
            f"**{u['ours']:.3f}** ours, {_num(u['base'])} baseline (same models as above).",
            "",
        ]
        if u["misses"]:
            lines += ["Its misses (ours):", "", "| question | expected | got |", "| --- | --- | --- |"]
            lines += [f"| {t} | {g} | {p} |" for t, g, p in u["misses"]]
            lines.append("")
    return lines


def write_benchmarks(block: str, path: Path) -> Path:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def targets(r: dict, skip_baseline: bool) -> str:
    failures = []
    if r["ours_acc"] < 0.95:
        failures.append(f"top-1 {r['ours_acc']:.3f} < 0.95")
    if not skip_baseline and r["ours_acc"] - r["base_acc"] < 0.03:
        failures.append("less than 3 points above baseline")
    low = [row[0] for row in r["ours_rows"] if row[2] < 0.85]
    if low:
        failures.append(f"{len(low)} topic{'s' if len(low) > 1 else ''} with recall < 0.85 ({', '.join(low)})")
    if r["p95"] > 60:
        failures.append(f"p95 {r['p95']:.1f} ms > 60 ms")
    return "all met" if not failures else "missed: " + "; ".join(failures)
