"""Which files of the inputs are videos, and the folder each one's results go to.

**Finding videos.** A folder is searched for files with a video extension
(:data:`VIDEO_EXTENSIONS`); ``recursive`` descends into subfolders. A file with a video
extension is always listed, even when it is not a video: it is then reported as failed
("not a video" from :func:`hotcli.formats.video.probe`) instead of being silently dropped,
because a ``.mp4`` that does not play is something the user wants to know about. Files with
other extensions are listed only when their first bytes carry a video container signature
(MP4/MOV, AVI, Matroska/WebM, FLV, ASF/WMV, MPEG), which costs one 64-byte read; obvious
non-videos (text, data, images, the tool's own outputs) are not even opened. ``.ts`` is
listed only by content, as TypeScript sources share the extension. Hidden files and
folders, folders that hold a hot-pose result (``summary.json`` or ``poses.npz``) and the
output folder, when it lies inside the input tree, are never searched, so a second run
does not process the first run's ``<stem>_pose.mp4``. A path named explicitly is always
listed.

**Where results go.** ``<output-dir>/<path of the video relative to its input folder,
without the extension>/`` mirrors the input tree. The default output folder is
``hot-pose-output/<folder name>/`` for one folder and ``hot-pose-output/`` otherwise (with
several folders each gets its own subfolder there, named after it). Two videos that would
share a folder (``a.mp4`` and ``a.mov``) keep their extension in the name (``a_mp4``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotcli.batch.report import SUMMARY_STEM
from hotcli.errors import HotPoseError
from hotcli.options import DEFAULT_OUTPUT_ROOT

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mov .qt .avi .mkv .webm .mpg .mpeg .m2v .mpe .wmv .asf .flv .f4v .3gp .3g2 "
    ".ogv .mts .m2ts .vob .mxf .dv .divx .y4m".split()
)
#: Never opened while searching: not videos, and common in folders of clips and results.
NOT_VIDEO_EXTENSIONS = frozenset(
    ".txt .md .rst .json .jsonl .csv .tsv .yaml .yml .xml .html .npz .npy .pt .pth .onnx .pkl "
    ".py .sh .log .pdf .zip .gz .tar .png .jpg .jpeg .gif .bmp .tif .tiff .webp .svg .wav .mp3 "
    ".aac .flac .ogg .m4a .srt .vtt .ini .cfg .toml".split()
)
RESULT_MARKERS = ("summary.json", "poses.npz", f"{SUMMARY_STEM}.json")


@dataclass(frozen=True)
class Job:
    """One video and the folder its results go to."""

    video: Path
    out_dir: Path
    name: str  # the output folder relative to the batch's output root (shown in the summary)


_SIGNATURES = (
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"FLV\x01"),
    (0, bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")),  # ASF / WMV
    (0, b"\x00\x00\x01\xba"),  # MPEG program stream
    (0, b"\x00\x00\x01\xb3"),  # MPEG video elementary stream
    (0, b"YUV4MPEG2"),
)


def has_video_signature(path: Path) -> bool:
    """Whether the file starts like a video container (a cheap check, not a full probe)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:1] == b"\x47":  # MPEG transport stream: a sync byte every 188 bytes
                f.seek(188)
                return f.read(1) == b"\x47"
    except OSError:
        return False
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return True  # ISO base media (MP4, MOV, 3GP)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return any(head[at : at + len(sig)] == sig for at, sig in _SIGNATURES)


def is_video_candidate(path: Path) -> bool:
    """The listing rule for files met while searching a folder (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return True
    if suffix in NOT_VIDEO_EXTENSIONS:
        return False
    return has_video_signature(path)  # any other extension, .ts (also TypeScript) among them


def _is_excluded(folder: Path, excluded: Sequence[Path]) -> bool:
    if any((folder / marker).is_file() for marker in RESULT_MARKERS):
        return True
    resolved = folder.resolve()
    return any(resolved == e or e in resolved.parents for e in excluded)


def walk_folder(folder: Path, recursive: bool, excluded: Sequence[Path] = ()) -> list[Path]:
    """Video candidates in ``folder`` (and below when ``recursive``), in a stable order."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if _is_excluded(here, excluded):
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in sorted(files):
            path = here / name
            if not name.startswith(".") and path.is_file() and is_video_candidate(path):
                found.append(path)
    return found


def _glob_base(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard (``clips/**/*.mp4`` → ``clips``)."""
    parts: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _folder_name(folder: Path) -> str:
    return folder.resolve().name or "root"


def find_videos(
    inputs: Sequence[str], recursive: bool = False, excluded: Sequence[Path] = ()
) -> list[tuple[Path, Path]]:
    """``(video, output path relative to the output root, without extension)`` per video.

    A path that does not exist and a pattern that matches nothing are errors (a typo in
    the command is better reported before hours of work than in the summary).
    """
    several = len(inputs) > 1
    found: list[tuple[Path, Path]] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            prefix = Path(_folder_name(path)) if several else Path()
            found += [
                (v, prefix / v.relative_to(path)) for v in walk_folder(path, recursive, excluded)
            ]
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise HotPoseError(f"no file matches {text}")
            base = _glob_base(text)
            for match in map(Path, matches):
                if match.is_dir():
                    videos = walk_folder(match, recursive, excluded)
                elif not match.name.startswith(".") and is_video_candidate(match):
                    videos = [match]
                else:
                    videos = []
                found += [(v, _relative(v, base)) for v in videos]
        else:
            raise HotPoseError(f"no such file or folder: {text}")
    return found


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return Path(path.name)


def plan_jobs(found: Iterable[tuple[Path, Path]], output_root: Path) -> list[Job]:
    """Drop repeated videos and give each a distinct output folder under ``output_root``."""
    unique: dict[Path, tuple[Path, Path]] = {}
    for video, rel in found:
        unique.setdefault(video.resolve(), (video, rel))
    pairs = list(unique.values())
    stems = [rel.with_suffix("") for _, rel in pairs]
    clashing = {s for s in stems if stems.count(s) > 1}
    names: list[Path] = []
    for (_, rel), stem in zip(pairs, stems, strict=True):
        if stem in clashing:
            stem = rel.with_name(rel.name.replace(".", "_"))
        name, n = stem, 2
        while name in names:
            name, n = stem.with_name(f"{stem.name}-{n}"), n + 1
        names.append(name)
    return [
        Job(video, output_root / name, name.as_posix())
        for (video, _), name in zip(pairs, names, strict=True)
    ]


def default_output_root(inputs: Sequence[str]) -> Path:
    """``hot-pose-output/<folder name>/`` for one folder, else ``hot-pose-output/``."""
    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        return DEFAULT_OUTPUT_ROOT / _folder_name(Path(inputs[0]))
    return DEFAULT_OUTPUT_ROOT
