#!/usr/bin/env python
"""Held-out NLU evaluation of the bot against a plain baseline (`make eval`).

Run with the bot environment from the repository root:

    .venv-bot/bin/python scripts/eval_nlu.py [--seed 20261203] [--test-fraction 0.2]

1. Loads data/nlu/*.yml and splits every intent (out_of_scope per sub-kind)
   into train/test with a fixed seed; test examples whose normalised text
   equals a training example are dropped so no duplicate leaks.
2. Trains our pipeline (bot/config.yml, or --config) and a baseline
   (JiebaTokenizer + one CountVectorsFeaturizer + DIETClassifier with Rasa's
   defaults except 50 epochs; --baseline-epochs 300 for DIET's own default)
   on the same train split; the baseline is trained and run in a process of
   its own, so it never sees the jieba dictionary our pipeline loads
   (jieba's dictionary is process-wide). The trained baseline is cached by a hash of the
   split and its config (~/.cache/zhengwu-kefu/eval/): on 2 CPUs 50 epochs take
   about 20 minutes, 300 about two hours; the report gives the epochs and the
   training time measured when it was trained.
3. Parses the test split with both models: top-1 accuracy, per-topic
   precision/recall, the most frequent confusions, fallback-threshold sweep.
4. Starts a real `rasa run --enable-api` with our model and times HTTP
   /model/parse calls over the test set (p50/p95).
5. Replaces the block between <!-- nlu-eval:start --> and <!-- nlu-eval:end -->
   in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from nlu_report import render, targets, write_benchmarks  # scripts/ is on sys.path when run as a script
from parse_latency import parse_latency

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
sys.path[:0] = [str(ROOT), str(BOT)]
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Rasa's training cache ignores custom components' code changes: never reuse it here.
os.environ["RASA_MAX_CACHE_SIZE"] = "0"

# DIET's default is 300 epochs, which on 2 CPUs is 20-25 s per epoch for this
# data: about two hours, longer than a working session can wait after each data
# change. 50 epochs (training accuracy is ~0.99 by epoch 30) is the default here;
# --baseline-epochs 300 gives the faithful figure, once per split thanks to the
# baseline cache (EVAL_CACHE).
BASELINE_EPOCHS = 50


def baseline_config(epochs: int) -> str:
    return f"""# Baseline: Rasa's plain Chinese pipeline, DIET defaults except epochs (time).
recipe: default.v1
language: zh
pipeline:
  - name: JiebaTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: {epochs}
    random_seed: 42
policies: []
"""


# Independent question sets (written from shared/policy_topics.yml without the training data).
INDEPENDENT = tuple(ROOT / "tests" / "bot" / name
                    for name in ("unseen_questions.yml", "hard_questions.yml", "third_questions.yml",
                                 "fourth_questions.yml"))
EVAL_CACHE = Path(os.environ.get("ZWKF_CACHE", Path.home() / ".cache" / "zhengwu-kefu")) / "eval"
DIALOGUE = {"greet", "goodbye", "human_handoff", "case_status", "out_of_scope"}


GENERATED = "generated_variants.yml"
from actions.answer import RUNNER_UP_MIN_CONFIDENCE  # noqa: E402
from actions.dialogue import NAME_KIND_MIN_CONFIDENCE as OUT_OF_SCOPE_NAMED_MIN  # noqa: E402

# Intents whose reply is not a knowledge answer, so no runner-up topic is offered with them.
NOT_ANSWERED = {"nlu_fallback", "greet", "goodbye", "human_handoff", "case_status", "out_of_scope",
                "input_empty", "input_too_long"}
SIMILAR = 0.7  # char-bigram Jaccard above which a test question counts as seen


def load_examples():
    """(hand-written data incl. regexes/lookups/synonyms, generated variants)."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = sorted((ROOT / "data" / "nlu").glob("*.yml"))
    data = TrainingData().merge(*[load_data(str(p)) for p in files if p.name != GENERATED])
    generated = [load_data(str(p)) for p in files if p.name == GENERATED]
    return data, (generated[0].intent_examples if generated else [])


def _bigrams(text: str) -> set:
    return {text[i : i + 2] for i in range(max(1, len(text) - 1))}


def split(data, generated, seed: int, fraction: float):
    """Stratified split of the hand-written examples; generated ones only train.

    Test questions that equal a training text after normalisation, or resemble
    a generated variant (char-bigram Jaccard >= SIMILAR), are dropped.
    """
    from channels.normalize import normalize_text

    by_label: Dict[str, list] = collections.defaultdict(list)
    for msg in data.intent_examples:
        label = msg.get("intent_response_key") or msg.get("intent")
        by_label[label].append(msg)
    # Each example's side is decided by a hash of (seed, label, text), not by one shuffled
    # random stream: adding an example to one topic then moves at most one test question of
    # that topic, instead of reshuffling every topic after it in the stream.
    def rank(label: str, msg) -> str:
        return hashlib.sha256(f"{seed}|{label}|{msg.get('text')}".encode("utf-8")).hexdigest()

    train, test = [], []
    for label in sorted(by_label):
        msgs = sorted(by_label[label], key=lambda m: rank(label, m))
        n_test = max(1, round(len(msgs) * fraction))
        test += msgs[:n_test]
        train += msgs[n_test:]
    train += list(generated)
    seen = {normalize_text(m.get("text")).text for m in train}
    gen_grams = [_bigrams(normalize_text(m.get("text")).text) for m in generated]

    def resembles_generated(text: str) -> bool:
        grams = _bigrams(text)
        return any(len(grams & g) / len(grams | g) >= SIMILAR for g in gen_grams)

    kept = []
    for m in test:
        text = normalize_text(m.get("text")).text
        if text not in seen and not resembles_generated(text):
            kept.append(m)
    return train, kept, len(test) - len(kept)


def write_train(data, train, path: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    subset = TrainingData(
        training_examples=train,
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
        responses=data.responses,
    )
    path.write_text(RasaYAMLWriter().dumps(subset), encoding="utf-8")


def train(config: Path, nlu: Path, out: Path, name: str) -> Tuple[Path, float]:
    from rasa.model_training import train_nlu

    start = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(BOT)  # config paths (jieba dictionary) are relative to bot/
    try:
        model = train_nlu(str(config), str(nlu), str(out), fixed_model_name=name, domain=str(BOT / "domain"))
    finally:
        os.chdir(cwd)
    return Path(model), time.perf_counter() - start


def examples_yaml(train) -> bytes:
    """The training examples alone (no regexes, lookups or synonyms), as Rasa YAML."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return RasaYAMLWriter().dumps(TrainingData(training_examples=train)).encode()


def baseline_model(train_file: Path, examples: bytes, base_cfg: Path, work: Path) -> Tuple[Path, float]:
    """The trained baseline, from the cache when its training examples and config are unchanged.

    The key covers the examples only: the baseline pipeline has no regex, lookup or
    synonym component, so editing those sections of data/nlu does not change it.
    """
    import rasa

    key = hashlib.sha256(examples + base_cfg.read_bytes() + rasa.__version__.encode()).hexdigest()
    cached, meta = EVAL_CACHE / f"baseline-{key}.tar.gz", EVAL_CACHE / f"baseline-{key}.json"
    if cached.exists() and meta.exists():
        seconds = float(json.loads(meta.read_text(encoding="utf-8"))["train_s"])
        print(f"baseline model from cache {cached.name} (trained in {seconds:.0f}s)", flush=True)
        return cached, seconds
    print(f"training the baseline (DIET; {base_cfg.read_text().splitlines()[0]}); 20-25 s per epoch on 2 CPUs",
          flush=True)
    model, seconds = train(base_cfg, train_file, work, "baseline")
    EVAL_CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copy(model, cached.with_suffix(".partial"))
    cached.with_suffix(".partial").rename(cached)
    meta.write_text(json.dumps({"train_s": seconds}), encoding="utf-8")
    return cached, seconds


def predict(model: Path, texts: List[str]) -> List[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> List[dict]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(run())


def baseline_parses(train_msgs, train_file: Path, base_cfg: Path, work: Path,
                    texts: List[str], unseen_texts: List[str]) -> Tuple[List[dict], List[dict], float]:
    """The baseline's parses of the held-out and independent questions, and its training time.

    Trained and run in a process of its own: jieba's dictionary is process-wide,
    and once our pipeline has loaded data/jieba into it, the baseline's plain
    JiebaTokenizer would cut words with our government terms too (and cut them
    differently at test time than when it was trained in another run).
    """
    job = work / "baseline-job.json"
    job.write_text(json.dumps(dict(
        train_file=str(train_file), base_cfg=str(base_cfg), work=str(work),
        examples=examples_yaml(train_msgs).decode("utf-8"), texts=texts, unseen=unseen_texts,
    ), ensure_ascii=False), encoding="utf-8")
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--baseline-job", str(job)], check=True)
    result = json.loads((work / "baseline-result.json").read_text(encoding="utf-8"))
    return result["held_out"], result["unseen"], float(result["train_s"])


def run_baseline_job(job_file: Path) -> None:
    """Child side of :func:`baseline_parses` (``--baseline-job``): nothing of ours is loaded here."""
    job = json.loads(job_file.read_text(encoding="utf-8"))
    work = Path(job["work"])
    model, seconds = baseline_model(Path(job["train_file"]), job["examples"].encode("utf-8"),
                                    Path(job["base_cfg"]), work)
    parses = predict(model, job["texts"] + job["unseen"])
    n = len(job["texts"])
    (work / "baseline-result.json").write_text(json.dumps(
        dict(held_out=parses[:n], unseen=parses[n:], train_s=seconds), ensure_ascii=False), encoding="utf-8")


def top1(parse: dict, skip_fallback: bool) -> str:
    if not skip_fallback:
        return parse["intent"]["name"]
    for item in parse.get("intent_ranking") or []:
        if item["name"] != "nlu_fallback":
            return item["name"]
    return parse["intent"]["name"]


def metrics(gold: List[str], pred: List[str]):
    labels = sorted(set(gold))
    rows = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        n_pred = sum(1 for p in pred if p == label)
        n_gold = sum(1 for g in gold if g == label)
        rows.append((label, tp / n_pred if n_pred else 0.0, tp / n_gold if n_gold else 0.0, n_gold))
    acc = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold)
    confusions = collections.Counter((g, p) for g, p in zip(gold, pred) if g != p)
    return acc, rows, confusions


def independent_questions() -> List[Tuple[Path, List[str], List[str]]]:
    """(file, texts, topics) of each independent question set that exists."""
    sets = []
    for path in INDEPENDENT:
        if path.exists():
            items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
            sets.append((path, [q["text"] for q in items], [q["topic"] for q in items]))
    return sets


def score_independent(ours_model: Path, base_parses: List[dict] | None) -> List[dict]:
    """Top-1 of both models on each independent set (the baseline's parsed in its own process,
    all sets in one list, in order)."""
    results, offset = [], 0
    for path, texts, gold in independent_questions():
        ours = [top1(p, False) for p in predict(ours_model, texts)]
        base = None if base_parses is None else [top1(p, False) for p in base_parses[offset:offset + len(texts)]]
        offset += len(texts)
        result = dict(
            file=os.path.relpath(path, ROOT), n=len(texts),
            ours=sum(g == p for g, p in zip(gold, ours)) / len(texts),
            base=float("nan") if base is None else sum(g == p for g, p in zip(gold, base)) / len(texts),
            misses=[(t.replace("|", "/"), g, p) for t, g, p in zip(texts, gold, ours) if g != p],
        )
        print(f"{result['file']}: ours {result['ours']:.3f}, baseline {result['base']:.3f}", flush=True)
        results.append(result)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--latency-repeats", type=int, default=1)
    ap.add_argument("--config", type=Path, default=BOT / "config.yml", help="pipeline to evaluate as 'ours'")
    ap.add_argument("--skip-baseline", action="store_true", help="iterate faster (report shows baseline as n/a)")
    ap.add_argument("--baseline-only", action="store_true", help="only train/cache the baseline, then stop")
    ap.add_argument("--baseline-epochs", type=int, default=BASELINE_EPOCHS,
                    help="DIET epochs of the baseline (DIET's own default is 300: about two hours here)")
    ap.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    ap.add_argument("--errors", type=Path, help="also write ours' misclassified held-out questions here (TSV)")
    ap.add_argument("--baseline-job", type=Path, help=argparse.SUPPRESS)  # internal: see baseline_parses
    args = ap.parse_args()
    if args.baseline_job:
        run_baseline_job(args.baseline_job)
        return

    data, generated = load_examples()
    train_msgs, test_msgs, dropped = split(data, generated, args.seed, args.test_fraction)
    work = Path(tempfile.mkdtemp(prefix="nlu-eval-"))
    try:
        train_file = work / "train.yml"
        write_train(data, train_msgs, train_file)
        base_cfg = work / "baseline.yml"
        base_cfg.write_text(baseline_config(args.baseline_epochs), encoding="utf-8")
        texts = [m.get("text") for m in test_msgs]
        gold = [m.get("intent") for m in test_msgs]
        gold_rs = [m.get("intent_response_key") for m in test_msgs]
        print(f"train {len(train_msgs)} / test {len(test_msgs)} (dropped {dropped} duplicates)", flush=True)

        base_parses: List[dict] = []
        base_unseen: List[dict] | None = None
        if not args.skip_baseline:  # first, so that --baseline-only stops before ours is trained
            base_parses, base_unseen, base_s = baseline_parses(
                train_msgs, train_file, base_cfg, work, texts,
                [t for _, set_texts, _ in independent_questions() for t in set_texts])
        if args.baseline_only:
            return
        ours_model, ours_s = train(args.config.resolve(), train_file, work, "ours")
        print(f"ours trained in {ours_s:.0f}s", flush=True)
        ours = predict(ours_model, texts)
        ours_acc, ours_rows, confusions = metrics(gold, [top1(p, False) for p in ours])
        if args.errors:
            write_errors(args.errors, texts, gold, ours)
        ours_raw = metrics(gold, [top1(p, True) for p in ours])[0]
        if args.skip_baseline:  # the report prints n/a for every baseline figure
            base_acc = base_raw = base_s = float("nan")
            base_rows: list = []
        else:
            base_acc, base_rows, _ = metrics(gold, [top1(p, False) for p in base_parses])
            base_raw = metrics(gold, [top1(p, True) for p in base_parses])[0]

        rs_pairs = []  # (gold sub-kind, predicted sub-kind, its confidence) for out_of_scope questions
        for g, p in zip(gold_rs, ours):
            if g:
                chosen = p.get("response_selector", {}).get("out_of_scope", {}).get("response", {}) or {}
                rs_pairs.append((g, chosen.get("intent_response_key"), float(chosen.get("confidence") or 0.0)))
        rs_acc = sum(1 for g, p, _ in rs_pairs if g == p) / max(1, len(rs_pairs))
        named = [(g, p) for g, p, c in rs_pairs if c >= OUT_OF_SCOPE_NAMED_MIN]
        rs_named = (len(named) / max(1, len(rs_pairs)), sum(1 for g, p in named if g == p) / max(1, len(named)))

        sweep = []
        for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7):
            answered = [(g, p) for g, p in zip(gold, ours) if _raw_conf(p) >= t]
            rate = 1 - len(answered) / len(gold)
            acc = sum(1 for g, p in answered if top1(p, True) == g) / max(1, len(answered))
            sweep.append((t, rate, acc))

        offered = [(g, top1(p, False), runner_up_offered(p)) for g, p in zip(gold, ours)]
        runner_up = (
            sum(1 for _, _, r in offered if r) / len(offered),  # answers that offer a second topic first
            sum(1 for g, t, r in offered if g in (t, r)) / len(offered),  # gold answered or offered first
        )

        unseen = score_independent(ours_model, base_unseen)
        p50, p95, n = parse_latency(ours_model, texts, args.latency_repeats, cwd=BOT, pythonpath=ROOT)
        report = dict(
            date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            machine=f"{os.cpu_count()} CPU, {platform.machine()}, Python {platform.python_version()}",
            command="make eval  # = .venv-bot/bin/python scripts/eval_nlu.py" + (
                f" --seed {args.seed}" if args.seed != 20261203 else "") + (
                f" --config {args.config}" if args.config.resolve() != (BOT / "config.yml").resolve() else ""),
            config=os.path.relpath(args.config.resolve(), ROOT),
            seed=args.seed, fraction=args.test_fraction, n_train=len(train_msgs), n_test=len(test_msgs),
            dropped=dropped, n_topics=len(set(gold)),
            ours_acc=ours_acc, ours_raw=ours_raw, ours_train_s=ours_s, ours_rows=ours_rows,
            base_acc=base_acc, base_raw=base_raw, base_train_s=base_s, base_rows=base_rows,
            confusions=confusions.most_common(15), min_recall=min(((r[0], r[2]) for r in ours_rows), key=lambda x: x[1]),
            rs_acc=rs_acc, rs_n=len(rs_pairs), rs_named=rs_named, rs_named_min=OUT_OF_SCOPE_NAMED_MIN,
            runner_up=runner_up, runner_up_min=RUNNER_UP_MIN_CONFIDENCE, sweep=sweep, p50=p50, p95=p95, lat_n=n,
            baseline_epochs=args.baseline_epochs, similar=SIMILAR, unseen=unseen,
        )
        report["targets"] = targets(report, args.skip_baseline)
        block = render(report)
        print(block)
        if not args.no_write:
            print(f"wrote {write_benchmarks(block, ROOT / 'docs' / 'benchmarks.md')}")
        print("targets: " + report["targets"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def runner_up_offered(parse: dict) -> str | None:
    """The topic the answer would offer first as a close second (bot/actions/answer.py's rule)."""
    top = top1(parse, False)
    if top in NOT_ANSWERED:
        return None
    for item in parse.get("intent_ranking") or []:
        if item["name"] == top or item["name"] in NOT_ANSWERED:
            continue
        return item["name"] if float(item.get("confidence") or 0.0) >= RUNNER_UP_MIN_CONFIDENCE else None
    return None


def write_errors(path: Path, texts: List[str], gold: List[str], parses: List[dict]) -> None:
    """One line per misclassified question: gold, predicted, confidence, text (for error analysis)."""
    lines = ["gold\tpredicted\tconfidence\ttext"]
    for text, g, p in sorted(zip(texts, gold, parses), key=lambda r: r[1]):
        if top1(p, False) != g:
            lines.append(f"{g}\t{top1(p, False)}\t{_raw_conf(p):.2f}\t{text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines) - 1} misclassified questions to {path}", flush=True)


def _raw_conf(parse: dict) -> float:
    for item in parse.get("intent_ranking") or []:
        if item["name"] != "nlu_fallback":
            return float(item.get("confidence") or 0.0)
    return float(parse["intent"].get("confidence") or 0.0)


if __name__ == "__main__":
    main()
