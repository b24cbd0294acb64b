"""The government-term dictionary reaches the trained model, and a wrong path fails loudly."""
from pathlib import Path

import pytest

from .conftest import ROOT

# A sample across categories; every line of data/jieba/*.txt is also checked below.
KEY_TERMS = [
    "一网通办", "居住证签注", "异地就医备案", "不动产登记", "公积金", "社保卡", "港澳通行证",
    "营业执照", "个税汇算", "低保", "无犯罪记录证明", "出生医学证明", "门诊慢特病", "创业担保贷款",
]
CONTEXTS = ["{}", "请问{}怎么办理", "关于{}的问题"]


def _dictionary_terms():
    terms = []
    for path in sorted((ROOT / "data" / "jieba").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                terms.append(line.split()[0])
    return terms


@pytest.fixture(scope="module")
def model_tokenizer(trained_model, tmp_path_factory):
    """The tokenizer exactly as the trained model loads it (from the model's own storage)."""
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from components.jieba_checked import CheckedJiebaTokenizer

    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), trained_model)
    nodes = [
        (name, node) for name, node in metadata.predict_schema.nodes.items() if node.uses is CheckedJiebaTokenizer
    ]
    assert len(nodes) == 1, "the trained model must use CheckedJiebaTokenizer"
    name, node = nodes[0]
    assert node.resource is not None, "the tokenizer must be loaded from the model's storage"
    return CheckedJiebaTokenizer.load(
        {**CheckedJiebaTokenizer.get_default_config(), **node.config},
        storage,
        node.resource,
        ExecutionContext(metadata.predict_schema, node_name=name),
    )


def _tokens(tokenizer, text):
    from rasa.shared.nlu.training_data.message import Message

    return [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


@pytest.mark.parametrize("term", KEY_TERMS)
def test_key_terms_are_single_tokens_in_context(model_tokenizer, term):
    for context in CONTEXTS:
        text = context.format(term)
        assert term in _tokens(model_tokenizer, text), (text, _tokens(model_tokenizer, text))


def test_every_dictionary_term_is_a_single_token(model_tokenizer):
    terms = _dictionary_terms()
    assert len(terms) >= 150
    split = [t for t in terms if _tokens(model_tokenizer, t) != [t]]
    assert not split, split


def test_wrong_dictionary_path_fails_loudly(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.jieba_checked import CheckedJiebaTokenizer, JiebaDictionaryError

    storage = LocalModelStorage(tmp_path / "storage")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**CheckedJiebaTokenizer.get_default_config(), "dictionary_path": str(tmp_path / "no-such-dir")}
    with pytest.raises(JiebaDictionaryError, match="not a directory"):
        CheckedJiebaTokenizer.create(config, storage, Resource("tok"), context)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(JiebaDictionaryError, match="no \\*.txt"):
        CheckedJiebaTokenizer.create({**config, "dictionary_path": str(empty)}, storage, Resource("tok"), context)
    # a model trained without the dictionary cannot be loaded either
    with pytest.raises(JiebaDictionaryError):
        CheckedJiebaTokenizer.load(config, storage, Resource("never-written"), context)


def test_config_points_at_the_dictionary_folder():
    import yaml

    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    [tok] = [c for c in config["pipeline"] if c["name"].endswith("CheckedJiebaTokenizer")]
    assert (ROOT / "bot" / tok["dictionary_path"]).resolve() == (ROOT / "data" / "jieba").resolve()
    assert Path(ROOT / "data" / "jieba").is_dir()
