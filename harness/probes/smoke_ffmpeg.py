"""Probe: ffmpeg makes a 440 Hz tone, encodes it to MP3 and Opus and decodes both back to WAV.

Checks every file's duration against the 3 s generated and that the decoded WAVs still
carry a 440 Hz tone. Also records the version and which common codecs are built in.
"""

from __future__ import annotations

import array
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from typing import Any

from _common import CheckFailed, Stopwatch, check, is_offline, run_probe, stage, workload

TONE_HZ = 440.0
DURATION_S = 3.0
DURATION_TOLERANCE_S = 0.25
PITCH_TOLERANCE = 0.03
FFMPEG_TIMEOUT_S = 120
KNOWN_ENCODERS = (
    *("libmp3lame", "libshine", "libopus", "opus", "aac", "libfdk_aac", "flac", "libvorbis"),
    *("vorbis", "pcm_s16le", "libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1"),
    "mpeg4",
)
KNOWN_DECODERS = (
    *("mp3", "mp3float", "opus", "libopus", "aac", "flac", "vorbis", "libvorbis", "pcm_s16le"),
    *("h264", "hevc", "vp9", "libvpx-vp9", "av1", "libdav1d", "mpeg4"),
)
# (step, input file or None for the generator, output file, output codec options)
STEPS = (
    ("generate_wav", None, "tone.wav", ["-c:a", "pcm_s16le"]),
    ("wav_to_mp3", "tone.wav", "tone.mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("wav_to_opus", "tone.wav", "tone.ogg", ["-c:a", "libopus", "-b:a", "64k"]),
    ("mp3_to_wav", "tone.mp3", "from_mp3.wav", ["-c:a", "pcm_s16le"]),
    ("opus_to_wav", "tone.ogg", "from_opus.wav", ["-c:a", "pcm_s16le"]),
)
# The workload: WORKLOAD_S of the tone encoded to MP3 WORKLOAD_REPEATS times (after one
# warm-up), as seconds of audio per second of wall time (×realtime).
WORKLOAD_S = 20.0
WORKLOAD_REPEATS = 5
GENERATOR = ["-f", "lavfi", "-i", f"sine=frequency={TONE_HZ:g}:duration={DURATION_S:g}"]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a tool without stdin (ffmpeg would otherwise wait for keys), capturing output."""
    return subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=FFMPEG_TIMEOUT_S,
    )


def version_facts(ffmpeg: str) -> dict[str, Any]:
    """First line of ``ffmpeg -version``, the numeric version and the library versions."""
    lines = run([ffmpeg, "-hide_banner", "-version"]).stdout.splitlines()
    first = lines[0] if lines else ""
    match = re.match(r"ffmpeg version (\S+)", first)
    full = match.group(1) if match else None
    number = re.match(r"n?(\d+(?:\.\d+)*)", full or "")
    libraries = {}
    for line in lines:
        lib = re.match(r"(lib\w+)\s+(\d+)\.\s*(\d+)\.\s*(\d+)", line)
        if lib:
            libraries[lib.group(1)] = ".".join(lib.group(2, 3, 4))
    return {
        "version_line": first,
        "version_full": full,
        "version": number.group(1) if number else None,
        "libraries": libraries,
    }


def codec_names(ffmpeg: str, kind: str) -> set[str]:
    """Names listed by ``ffmpeg -encoders`` / ``-decoders`` (rows after the ------ line)."""
    names = set()
    listing = False
    for line in run([ffmpeg, "-hide_banner", f"-{kind}"]).stdout.splitlines():
        if line.strip().startswith("------"):
            listing = True
            continue
        row = re.match(r"\s*[VAS.][A-Z.]{5}\s+(\S+)", line)
        if listing and row:
            names.add(row.group(1))
    return names


def codec_presence(ffmpeg: str) -> dict[str, Any]:
    """Which of the known encoders and decoders this build has."""
    facts = {}
    for kind, known in (("encoders", KNOWN_ENCODERS), ("decoders", KNOWN_DECODERS)):
        names = codec_names(ffmpeg, kind)
        facts[kind] = {
            "present": [name for name in known if name in names],
            "missing": [name for name in known if name not in names],
            "total": len(names),
        }
    return facts


def duration(ffmpeg: str, ffprobe: str | None, path: str) -> float | None:
    """Container duration in seconds: ffprobe when installed, else ffmpeg's "Duration:" line."""
    if ffprobe:
        proc = run(
            [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]
        )
        try:
            return float(proc.stdout.strip())
        except ValueError:
            pass
    stderr = run([ffmpeg, "-hide_banner", "-nostdin", "-i", path]).stderr
    match = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", stderr)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def tone_pitch(path: str) -> float:
    """Pitch of a 16-bit WAV's first channel, from threshold crossings.

    A Schmitt trigger at 30 % of the peak ignores codec noise and encoder padding; a sine
    flips it twice per period.
    """
    with wave.open(path, "rb") as handle:
        check(handle.getsampwidth() == 2, f"{path}: expected 16-bit samples")
        channels, rate = handle.getnchannels(), handle.getframerate()
        samples = array.array("h", handle.readframes(handle.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    mono = samples[::channels]
    threshold = 0.3 * max((abs(value) for value in mono), default=0)
    check(threshold > 0, f"{path}: decoded audio is silent")
    flips, high = 0, mono[0] > 0
    for value in mono:
        if (high and value < -threshold) or (not high and value > threshold):
            flips, high = flips + 1, not high
    return flips / 2 / (len(mono) / rate)


def run_step(
    ffmpeg: str, ffprobe: str | None, workdir: str, step: tuple[Any, ...]
) -> dict[str, Any]:
    """One transcode: its seconds, output duration and, for WAV outputs, the tone's pitch."""
    _name, source, target, codec = step
    if source is None:
        inputs = GENERATOR
    elif os.path.exists(os.path.join(workdir, source)):
        inputs = ["-i", os.path.join(workdir, source)]
    else:
        return {"ok": False, "error": f"skipped: {source} was not produced"}
    output = os.path.join(workdir, target)
    command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *inputs]
    watch = Stopwatch()
    proc = run([*command, *codec, output])
    facts: dict[str, Any] = {"seconds": watch.elapsed(), "output": target}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {**facts, "ok": False, "error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    facts["duration"] = length = duration(ffmpeg, ffprobe, output)
    problems = []
    if length is None or abs(length - DURATION_S) > DURATION_TOLERANCE_S:
        problems.append(f"duration {length} s, expected {DURATION_S} ± {DURATION_TOLERANCE_S}")
    if target.endswith(".wav"):
        facts["pitch_hz"] = pitch = round(tone_pitch(output), 2)
        if abs(pitch - TONE_HZ) > PITCH_TOLERANCE * TONE_HZ:
            problems.append(f"pitch {pitch} Hz, expected {TONE_HZ:g}")
    facts["ok"] = not problems
    if problems:
        facts["error"] = "; ".join(problems)
    return facts


def transcode_speed(ffmpeg: str, workdir: str) -> dict[str, Any]:
    """×realtime of encoding WORKLOAD_S of a 440 Hz WAV to 128 kbit/s MP3, repeated."""
    source = os.path.join(workdir, "workload.wav")
    generator = ["-f", "lavfi", "-i", f"sine=frequency={TONE_HZ:g}:duration={WORKLOAD_S:g}"]
    base = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    made = run([*base, *generator, "-c:a", "pcm_s16le", source])
    check(made.returncode == 0, f"workload: could not make the WAV: {made.stderr[-300:]}")
    encode = [*base, "-i", source, "-c:a", "libmp3lame", "-b:a", "128k"]
    speeds = []
    for index in range(WORKLOAD_REPEATS + 1):
        watch = Stopwatch()
        proc = run([*encode, os.path.join(workdir, "workload.mp3")])
        seconds = watch.elapsed()
        check(proc.returncode == 0, f"workload: exit {proc.returncode}: {proc.stderr[-300:]}")
        if index > 0 and seconds > 0:  # the first run warms the page cache
            speeds.append(WORKLOAD_S / seconds)
    return workload(
        f"MP3 encode (libmp3lame 128k) of {WORKLOAD_S:g} s of audio", "x realtime", speeds, True
    )


def main(result: dict[str, Any]) -> None:
    result["offline"] = is_offline()
    ffmpeg = shutil.which("ffmpeg")
    ffprobe = shutil.which("ffprobe")
    result.update(ffmpeg_path=ffmpeg, ffprobe_path=ffprobe)
    result["import_time"] = {}  # no Python module: the depset is ffmpeg alone
    if not ffmpeg:
        raise CheckFailed("ffmpeg not found on PATH")
    result.update(version_facts(ffmpeg))
    result["codecs"] = codec_presence(ffmpeg)
    with tempfile.TemporaryDirectory(prefix="smoke-ffmpeg-") as workdir:
        steps = result["transcodes"] = {}
        for step in STEPS:
            steps[step[0]] = run_step(ffmpeg, ffprobe, workdir, step)
        if steps["wav_to_mp3"]["ok"]:
            with stage(result, "workload"):
                result["workload"] = transcode_speed(ffmpeg, workdir)
    failures = [f"{name}: {facts['error']}" for name, facts in steps.items() if not facts["ok"]]
    check(not failures, "; ".join(failures))


if __name__ == "__main__":
    run_probe(main)
