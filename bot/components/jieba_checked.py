"""JiebaTokenizer that refuses to run without its user dictionary.

Rasa's own JiebaTokenizer globs ``<dictionary_path>/*`` and silently loads
nothing when the path is wrong, and at load time only logs at debug level when
the dictionary is missing from the model.  Government terms (一网通办,
异地就医备案, ...) then fall apart into pieces and accuracy drops without any
visible error, so this subclass raises instead.
"""
from __future__ import annotations

import glob
import logging
import os
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

_BOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class JiebaDictionaryError(RasaException):
    """The jieba user dictionary is missing or empty."""


def resolve_dictionary_path(path: Text) -> Text:
    """Relative paths are tried from the working directory, then from bot/."""
    if os.path.isabs(path) or os.path.isdir(path):
        return os.path.abspath(path)
    return os.path.abspath(os.path.join(_BOT_DIR, path))


def dictionary_files(path: Text) -> List[Text]:
    if not os.path.isdir(path):
        raise JiebaDictionaryError(f"jieba dictionary_path '{path}' is not a directory")
    files = sorted(glob.glob(os.path.join(path, "*.txt")))
    if not files:
        raise JiebaDictionaryError(f"jieba dictionary_path '{path}' holds no *.txt user dictionary")
    for name in files:
        with open(name, encoding="utf-8") as handle:
            if not any(line.strip() and not line.startswith("#") for line in handle):
                raise JiebaDictionaryError(f"jieba user dictionary '{name}' is empty")
    return files


def _load(files: List[Text]) -> None:
    import jieba

    for name in files:
        logger.info("Loading jieba user dictionary %s", name)
        jieba.load_userdict(name)
    # Build the prefix dictionary now rather than on the first citizen message.
    jieba.initialize()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class CheckedJiebaTokenizer(JiebaTokenizer):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CheckedJiebaTokenizer":
        if not config.get("dictionary_path"):
            raise JiebaDictionaryError("CheckedJiebaTokenizer needs a dictionary_path")
        config = dict(config)
        config["dictionary_path"] = resolve_dictionary_path(config["dictionary_path"])
        _load(dictionary_files(config["dictionary_path"]))
        return cls(config, model_storage, resource)

    def persist(self) -> None:
        files = dictionary_files(self._config["dictionary_path"])
        import shutil

        with self._model_storage.write_to(self._resource) as directory:
            for name in files:
                shutil.copy2(name, str(directory))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CheckedJiebaTokenizer":
        try:
            with model_storage.read_from(resource) as directory:
                _load(dictionary_files(str(directory)))
        except ValueError as exc:
            raise JiebaDictionaryError(
                f"the trained model holds no jieba user dictionary (resource '{resource.name}')"
            ) from exc
        return cls(config, model_storage, resource)
