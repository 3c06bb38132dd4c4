"""Probe: transformers works offline with models built from configs.

Trains a BPE tokenizer in code, builds a tiny random GPT-2 (greedy generate) and a tiny
random BERT (masked-LM forward), then checks a save_pretrained/from_pretrained round trip
gives identical outputs. No hub access: HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE are set
before transformers is imported. Real weights are used only from HARNESS_MODEL_DIR.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from _common import (
    check,
    dist_version,
    import_time,
    is_offline,
    repeat_timed,
    run_probe,
    stage,
    workload,
)

IMPORT_RUNS = 3
SEED = 0
MAX_NEW_TOKENS = 8
WORKLOAD_BATCH = 16
VOCAB_SIZE = 300
SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", "<|endoftext|>"]
CORPUS = [
    "the cat sat on the mat .",
    "the dog sat on the log .",
    "a cat and a dog played in the garden .",
    "the quick brown fox jumps over the lazy dog .",
    "containers run python with many small dependencies .",
    "every base image ships a different libc and a different python .",
    "wheels for glibc and musl are built separately .",
    "the model reads a sentence and predicts the next word .",
]
PROMPT = "the cat sat"
MASKED = "[CLS] the dog sat on the [MASK] . [SEP]"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


def set_offline() -> None:
    """Make the hub libraries refuse network access (must run before they are imported)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings, fewer threads
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep the log readable


def versions() -> dict[str, str | None]:
    names = ("transformers", "tokenizers", "torch", "huggingface-hub", "safetensors")
    return {name: dist_version(name) for name in names}


def train_tokenizer(transformers: Any) -> Any:
    """A BPE tokenizer trained on CORPUS, wrapped as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS)
    tokenizer.train_from_iterator(CORPUS * 4, trainer=trainer)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
    )


def build_gpt2(transformers: Any, torch: Any, tokenizer: Any) -> Any:
    torch.manual_seed(SEED)
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=64,
        n_embd=64,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return transformers.GPT2LMHeadModel(config).eval()


def build_bert(transformers: Any, torch: Any, tokenizer: Any) -> Any:
    torch.manual_seed(SEED)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id,
    )
    return transformers.BertForMaskedLM(config).eval()


def generate(torch: Any, model: Any, tokenizer: Any) -> Any:
    """Greedy generation from PROMPT, at most MAX_NEW_TOKENS new tokens: the output ids."""
    inputs = tokenizer(PROMPT, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(
            **inputs,
            max_new_tokens=MAX_NEW_TOKENS,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
    new_tokens = output.shape[1] - inputs["input_ids"].shape[1]
    check(1 <= new_tokens <= MAX_NEW_TOKENS, f"generate added {new_tokens} tokens")
    return output


def masked_lm(torch: Any, model: Any, tokenizer: Any) -> tuple[Any, str]:
    """Masked-LM logits for MASKED and the token predicted at the mask (random: any)."""
    inputs = tokenizer(MASKED, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    expected = (1, inputs["input_ids"].shape[1], len(tokenizer))
    check(tuple(logits.shape) == expected, f"BERT logits shape {tuple(logits.shape)}")
    check(bool(torch.isfinite(logits).all()), "BERT logits are not finite")
    mask_index = inputs["input_ids"][0].tolist().index(tokenizer.mask_token_id)
    predicted = tokenizer.convert_ids_to_tokens(int(logits[0, mask_index].argmax()))
    return logits, predicted


def round_trip(
    transformers: Any,
    torch: Any,
    tokenizer: Any,
    models: dict[str, Any],
    expected: tuple[Any, Any],
    result: dict[str, Any],
) -> None:
    """Save tokenizer and models, reload them with the Auto classes, compare outputs.

    ``expected`` holds the original GPT-2 generated ids and BERT logits.
    """
    with tempfile.TemporaryDirectory(prefix="smoke-transformers-") as workdir:
        with stage(result, "save"):
            tokenizer.save_pretrained(os.path.join(workdir, "tokenizer"))
            for name, model in models.items():
                model.save_pretrained(os.path.join(workdir, name))
        with stage(result, "load"):
            tokenizer2 = transformers.AutoTokenizer.from_pretrained(
                os.path.join(workdir, "tokenizer")
            )
            gpt2 = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(workdir, "gpt2"))
            bert = transformers.AutoModelForMaskedLM.from_pretrained(os.path.join(workdir, "bert"))
        result["saved_files"] = sorted(
            os.path.join(name, file)
            for name in ("tokenizer", *models)
            for file in os.listdir(os.path.join(workdir, name))
        )
    with stage(result, "round_trip_compare"):
        for text in [*CORPUS, MASKED]:
            check(tokenizer2(text)["input_ids"] == tokenizer(text)["input_ids"], "tokenizer ids")
        check(
            torch.equal(generate(torch, gpt2.eval(), tokenizer2), expected[0]),
            "reloaded GPT-2 generates different ids",
        )
        check(
            torch.equal(masked_lm(torch, bert.eval(), tokenizer2)[0], expected[1]),
            "reloaded BERT gives different logits",
        )


def find_pretrained(root: str) -> str | None:
    """root or its first subdirectory holding config.json and weights, if any."""
    subdirs = sorted(os.path.join(root, name) for name in os.listdir(root))
    candidates = [root, *(path for path in subdirs if os.path.isdir(path))]
    for path in candidates:
        has_weights = any(os.path.exists(os.path.join(path, f)) for f in WEIGHT_FILES)
        if os.path.exists(os.path.join(path, "config.json")) and has_weights:
            return path
    return None


def pretrained_check(transformers: Any, torch: Any, path: str) -> dict[str, Any]:
    """Forward a sentence through local pretrained weights (base model, no head)."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    with torch.no_grad():
        output = model(**tokenizer(CORPUS[0], return_tensors="pt"))
    hidden = output[0]
    check(bool(torch.isfinite(hidden).all()), "pretrained model output is not finite")
    return {
        "path": path,
        "model_type": model.config.model_type,
        "parameters": sum(p.numel() for p in model.parameters()),
        "output_shape": list(hidden.shape),
    }


def bert_forward_time(torch: Any, model: Any, tokenizer: Any) -> dict[str, Any]:
    """Milliseconds of one masked-LM forward pass of the tiny BERT over a batch of
    WORKLOAD_BATCH sentences, repeated after a warm-up."""
    inputs = tokenizer([MASKED] * WORKLOAD_BATCH, return_tensors="pt", padding=True)
    with torch.no_grad():
        seconds = repeat_timed(lambda: model(**inputs))
    return workload(
        f"tiny BERT masked-LM forward pass, batch of {WORKLOAD_BATCH} sentences (no grad)",
        "ms",
        [s * 1000 for s in seconds],
        False,
    )


def random_models(transformers: Any, torch: Any, result: dict[str, Any]) -> None:
    """The in-code tokenizer, tiny GPT-2 and BERT, and their save/load round trip."""
    with stage(result, "tokenizer_train"):
        tokenizer = train_tokenizer(transformers)
    result["vocab_size"] = len(tokenizer)
    with stage(result, "gpt2_build"):
        gpt2 = build_gpt2(transformers, torch, tokenizer)
    with stage(result, "gpt2_generate"):
        ids = generate(torch, gpt2, tokenizer)
    result["generated_ids"] = ids[0].tolist()
    with stage(result, "bert_build"):
        bert = build_bert(transformers, torch, tokenizer)
    with stage(result, "bert_forward"):
        logits, result["bert_mask_prediction"] = masked_lm(torch, bert, tokenizer)
    with stage(result, "workload"):
        result["workload"] = bert_forward_time(torch, bert, tokenizer)
    models = {"gpt2": gpt2, "bert": bert}
    round_trip(transformers, torch, tokenizer, models, (ids, logits), result)


def main(result: dict[str, Any]) -> None:
    set_offline()
    result["offline"] = is_offline()
    result["versions"] = versions()
    with stage(result, "import"):
        import torch
        import transformers

        # transformers imports lazily: load the modules used here now, so their cost is
        # counted as import rather than as model building.
        for name in ("PreTrainedTokenizerFast", "GPT2LMHeadModel", "BertForMaskedLM"):
            getattr(transformers, name)
    random_models(transformers, torch, result)
    model_dir = os.environ.get("HARNESS_MODEL_DIR")
    pretrained = find_pretrained(model_dir) if model_dir and os.path.isdir(model_dir) else None
    if pretrained:
        with stage(result, "pretrained"):
            result["pretrained"] = pretrained_check(transformers, torch, pretrained)
    result["weights"] = pretrained or "random tiny model built from config"
    with stage(result, "import_time"):
        result["import_time"] = {"transformers": import_time("transformers", runs=IMPORT_RUNS)}


if __name__ == "__main__":
    run_probe(main)
