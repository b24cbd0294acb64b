"""Custom Rasa NLU components for the 政务服务 bot.

Rasa imports these by module path (``components.normalizer.TextNormalizer``)
with ``bot/`` as the working directory.  The normaliser itself lives in the
repository's ``channels`` package so that the desk runs exactly the same code;
the run scripts put the repository root on PYTHONPATH.  When they do not (for
example ``rasa train`` typed by hand inside ``bot/``), we add the root here
explicitly rather than fail with an import error that hides the real cause.
"""
import os
import sys

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)
