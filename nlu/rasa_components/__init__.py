"""Custom Rasa components, imported by Rasa itself inside `.rasa-venv` (Python 3.10), never by the app.

Code here may import only what works there: numpy < 1.24, onnxruntime and the app's pure-Python modules.
"""
