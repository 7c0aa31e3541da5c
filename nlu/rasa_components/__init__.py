"""Custom Rasa components, imported by Rasa itself inside `.rasa-venv` (Python 3.10); the app imports only
this file, for APP_CODE.

Code here may import only what works there: numpy < 1.24, onnxruntime and the app's pure-Python modules.
"""

from pathlib import Path

# App code the components train with, beyond the normaliser (versioned by NORMALIZER_VERSION). A change to
# it must retrain: the model's name hashes it (nlu/rasa_server.py) and so does Rasa's training cache key
# (OutOfScopeGate.fingerprint_addon).
APP_CODE = tuple(Path(__file__).resolve().parent.parent / name for name in ("softmax.py", "lexical.py"))
