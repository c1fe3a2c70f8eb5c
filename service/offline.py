"""Keep every library offline and silent: no telemetry, no hub downloads.

Called first by every entry point (CLI and app factory) before the libraries are imported.
Child processes (the parse worker) inherit the environment.
"""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",  # unstructured's analytics ping
    "SCARF_NO_ANALYTICS": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "RAGAS_DO_NOT_TRACK": "true",
    "ANONYMIZED_TELEMETRY": "False",  # chroma
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime's 1DS telemetry (and its <tmp>/.ses file)
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def go_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
