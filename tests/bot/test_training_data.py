"""Every topic of the contract is trained, routed by a rule and (if a knowledge topic) answered."""
import collections
from pathlib import Path

import yaml

from actions.kb import REQUIRED_FIELDS, get_kb

from .conftest import DIALOGUE_INTENTS, ROOT

MIN_EXAMPLES = 25


def _nlu_counts():
    counts = collections.Counter()
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                examples = [l for l in block["examples"].splitlines() if l.strip().startswith("- ")]
                counts[block["intent"].split("/")[0]] += len(examples)
    return counts


def _rule_intents():
    intents = collections.defaultdict(set)
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            steps = rule["steps"]
            for first, second in zip(steps, steps[1:]):
                if "intent" in first and "action" in second:
                    intents[first["intent"]].add(second["action"])
    return intents


def test_every_topic_has_enough_examples(policy_topics):
    counts = _nlu_counts()
    short = {t["id"]: counts.get(t["id"], 0) for t in policy_topics if counts.get(t["id"], 0) < MIN_EXAMPLES}
    assert not short, f"topics with fewer than {MIN_EXAMPLES} NLU examples: {short}"


def test_every_topic_is_an_intent_with_a_rule(policy_topics):
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "intents.yml").read_text(encoding="utf-8"))
    rules = _rule_intents()
    for topic in policy_topics:
        assert topic["id"] in domain["intents"], topic["id"]
        assert rules.get(topic["id"]), f"no rule for {topic['id']}"
        if topic["id"] not in DIALOGUE_INTENTS:
            assert rules[topic["id"]] == {"action_answer_topic"}


def test_every_knowledge_topic_has_a_complete_kb_entry(policy_topics):
    kb = get_kb()
    for topic in policy_topics:
        if topic["id"] in DIALOGUE_INTENTS:
            continue
        path = ROOT / "data" / "kb" / f"{topic['id']}.yml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        missing = [f for f in REQUIRED_FIELDS if not raw.get(f)]
        assert not missing, f"{path.name} lacks {missing}"
        entry = kb.topics[topic["id"]]
        assert entry.category == topic["category"], topic["id"]
        assert entry.policy and entry.effective_date[:2] in ("19", "20")
        assert entry.materials and all(entry.materials)
        assert "示例市" in entry.summary + entry.offline + entry.online
        assert all(r in kb.topics and r != entry.id for r in entry.related)


def test_no_training_example_is_listed_under_two_intents():
    seen = {}
    clashes = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = line.strip()[2:]
                if text in seen and seen[text] != block["intent"]:
                    clashes.append((text, seen[text], block["intent"]))
                seen[text] = block["intent"]
    assert not clashes


def test_rasa_paths_exclude_kb_and_jieba():
    script = Path(ROOT / "scripts" / "train_bot.sh").read_text(encoding="utf-8")
    assert "--data ../data/nlu ../data/rules ../data/stories" in script
