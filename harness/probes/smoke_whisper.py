"""Probe: openai-whisper transcribes an ffmpeg-made MP3 with a tiny random model, offline.

Stages: build the model (or load HARNESS_MODEL_DIR/tiny.pt when present), make a tone MP3
with ffmpeg, decode it with whisper.load_audio, compute the log-mel spectrogram, and run a
bounded transcribe. Random weights give garbage text, so only the result's shape is
checked. Also records triton (pulled in by openai-whisper even for CPU torch): whether it
imports, its version and its size on disk.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from _common import (
    CheckFailed,
    check,
    deadline,
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
AUDIO_SECONDS = 3
SAMPLE_RATE = 16000
TRANSCRIBE_LIMIT_S = 300.0
SUBPROCESS_TIMEOUT_S = 120
TINY_DIMS = {
    "n_mels": 80,
    "n_audio_ctx": 1500,
    "n_audio_state": 64,
    "n_audio_head": 2,
    "n_audio_layer": 2,
    "n_vocab": 51865,
    "n_text_ctx": 448,
    "n_text_state": 64,
    "n_text_head": 2,
    "n_text_layer": 2,
}
CHECKPOINT_NAMES = ("tiny.pt", "tiny.en.pt", "base.pt", "base.en.pt")
# Bounded decoding: greedy, English, no prompt carried over, at most 16 tokens per window.
# Timestamps off because a random model can emit <|0.00|> as its last timestamp, which
# moves transcribe's seek by zero frames and decodes the same window again.
WANTED_OPTIONS = {
    "verbose": None,
    "temperature": 0.0,
    "fp16": False,
    "language": "en",
    "condition_on_previous_text": False,
    "sample_len": 16,
    "without_timestamps": True,
}


def dist_size(name: str) -> dict[str, Any] | None:
    """Files and bytes on disk of an installed distribution (None when not installed)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    total = count = 0
    for file in dist.files or []:
        path = str(dist.locate_file(file))
        if os.path.isfile(path):
            total += os.path.getsize(path)
            count += 1
    return {"version": dist.version, "files": count, "bytes": total}


def triton_facts() -> dict[str, Any]:
    """Is triton installed and importable (checked in a child: importing it has side effects)."""
    facts: dict[str, Any] = {"installed": False, "version": None, "importable": False}
    disk = dist_size("triton")
    if disk:
        facts.update(installed=True, version=disk["version"], bytes=disk["bytes"])
        facts["files"] = disk["files"]
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import triton"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
        facts["importable"] = proc.returncode == 0
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            facts["import_error"] = lines[-1] if lines else f"exit {proc.returncode}"
    except (OSError, subprocess.SubprocessError) as exc:
        facts["import_error"] = f"{type(exc).__name__}: {exc}"
    return facts


def find_checkpoint() -> str | None:
    """A whisper checkpoint in HARNESS_MODEL_DIR (tiny.pt first), if the directory has one."""
    root = os.environ.get("HARNESS_MODEL_DIR")
    if not root or not os.path.isdir(root):
        return None
    for name in CHECKPOINT_NAMES:
        if os.path.isfile(os.path.join(root, name)):
            return os.path.join(root, name)
    return None


def build_model(whisper: Any, torch: Any, checkpoint: str | None) -> Any:
    """The checkpoint's model when given, else a tiny random one with a fixed seed."""
    if checkpoint:
        return whisper.load_model(checkpoint, device="cpu")
    torch.manual_seed(SEED)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**TINY_DIMS)).eval()
    # The decoder's positional embedding is torch.empty() (a checkpoint always fills it):
    # uninitialised memory, which made the random model's output differ from run to run.
    with torch.no_grad():
        torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    return model


def make_audio(path: str) -> None:
    """A few seconds of 440 Hz tone as an MP3 (whisper decodes audio through ffmpeg)."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise CheckFailed("ffmpeg not found on PATH (whisper.load_audio needs it)")
    source = f"sine=frequency=440:duration={AUDIO_SECONDS}"
    command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", source, "-c:a", "libmp3lame", path]
    proc = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    check(proc.returncode == 0, f"ffmpeg could not make the MP3: {proc.stderr.strip()[-300:]}")


def transcribe_options(whisper: Any) -> tuple[dict[str, Any], list[str]]:
    """WANTED_OPTIONS that this whisper accepts (transcribe's or DecodingOptions' names)."""
    accepted = set(inspect.signature(whisper.transcribe).parameters)
    accepted |= {field.name for field in dataclasses.fields(whisper.DecodingOptions)}
    options = {key: value for key, value in WANTED_OPTIONS.items() if key in accepted}
    return options, sorted(set(WANTED_OPTIONS) - set(options))


def check_audio(audio: Any) -> None:
    """load_audio gave float32 mono samples at 16 kHz of about the right length, not silent."""
    check(str(audio.dtype) == "float32" and audio.ndim == 1, f"audio {audio.dtype} {audio.shape}")
    seconds = len(audio) / SAMPLE_RATE
    check(abs(seconds - AUDIO_SECONDS) < 0.25, f"decoded audio lasts {seconds:.3f} s")
    check(float(abs(audio).max()) > 0.01, "decoded audio is silent")


def run_stages(whisper: Any, torch: Any, workdir: str, result: dict[str, Any]) -> dict[str, Any]:
    """Build, make audio, decode, log-mel, transcribe: the transcribe result."""
    checkpoint = find_checkpoint()
    result["weights"] = checkpoint or "random tiny model"
    with stage(result, "model_build"):
        model = build_model(whisper, torch, checkpoint)
    result["model_dims"] = dataclasses.asdict(model.dims)
    finite = all(bool(torch.isfinite(param).all()) for param in model.parameters())
    check(finite, "model has non-finite weights")
    mp3 = os.path.join(workdir, "tone.mp3")
    with stage(result, "audio_generate"):
        make_audio(mp3)
    with stage(result, "load_audio"):
        audio = whisper.load_audio(mp3)
    check_audio(audio)
    with stage(result, "log_mel"):
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), n_mels=model.dims.n_mels)
    result["log_mel_shape"] = list(mel.shape)
    check(bool(torch.isfinite(mel).all()), "log-mel spectrogram is not finite")
    options, result["dropped_options"] = transcribe_options(whisper)
    result["transcribe_options"] = options
    with stage(result, "transcribe"), deadline(TRANSCRIBE_LIMIT_S, "transcribe"):
        output = model.transcribe(audio, **options)
    with stage(result, "workload"), deadline(TRANSCRIBE_LIMIT_S, "workload"):
        result["workload"] = encoder_real_time_factor(torch, model, mel)
    return output


def encoder_real_time_factor(torch: Any, model: Any, mel: Any) -> dict[str, Any]:
    """Seconds of the audio encoder per second of audio over one 30 s window (whisper's
    unit of work), repeated after a warm-up: below 1 is faster than real time."""
    window_s = whisper_window_seconds(mel)
    batch = mel.unsqueeze(0)
    with torch.no_grad():
        seconds = repeat_timed(lambda: model.embed_audio(batch))
    return workload(
        f"audio encoder forward over one {window_s:g} s window (real-time factor)",
        "x audio duration",
        [s / window_s for s in seconds],
        False,
    )


def whisper_window_seconds(mel: Any) -> float:
    """The window the log-mel covers: 100 frames per second (hop 160 at 16 kHz)."""
    return float(mel.shape[-1]) / 100.0


def main(result: dict[str, Any]) -> None:
    result["offline"] = is_offline()
    result["versions"] = {
        name: dist_version(name) for name in ("openai-whisper", "torch", "numpy", "tiktoken")
    }
    with stage(result, "import"):
        import torch
        import whisper
    result["whisper_version"] = getattr(whisper, "__version__", None)
    result["torch_version"] = torch.__version__
    with stage(result, "triton"):
        result["triton"] = triton_facts()
    with tempfile.TemporaryDirectory(prefix="smoke-whisper-") as workdir:
        output = run_stages(whisper, torch, workdir, result)
    check(isinstance(output, dict), f"transcribe returned {type(output).__name__}")
    check("text" in output and "segments" in output, f"transcribe keys: {sorted(output)}")
    result["transcript"] = {
        "text": str(output["text"])[:200],
        "segments": len(output["segments"]),
        "language": output.get("language"),
    }
    with stage(result, "import_time"):
        result["import_time"] = {"whisper": import_time("whisper", runs=IMPORT_RUNS)}


if __name__ == "__main__":
    run_probe(main)
