"""Training crops for the 68-point photo model: faces68 and 300-W faces, aligned with PHOTO_FRAMING,
one packed .npz per set so each can travel to the GPU machine alone (one call carries 64 MiB).

    python benchmarks/pack_photo_crops.py --data ../shared/data --out .data/crops
    python benchmarks/pack_photo_crops.py --size 96 --out .data/crops96     # the same framing, smaller
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from facepoints.crop import PHOTO_FRAMING, Framing
from facepoints.data.aligned import aligned_crops
from facepoints.data.landmarks import read_landmark_csv
from facepoints.data.packed import save_packed
from facepoints.errors import FacepointsError

# Named as the bundled model's run named them: its split.json lists rows as "faces68:..." and "w300:...".
SETS = {"faces68": "faces68/keypoints.csv", "w300": "w300/faces/keypoints.csv"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path(".data/crops"))
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality of the packed crops")
    parser.add_argument("--size", type=int, default=PHOTO_FRAMING.size,
                        help="crop side in pixels, a multiple of 32 (what every photo model's strides divide)")
    args = parser.parse_args()
    if args.size <= 0 or args.size % 32:
        parser.error(f"--size must be a positive multiple of 32, not {args.size}")
    framing = PHOTO_FRAMING.scaled(args.size)
    try:
        pack(args.data, args.out, framing, args.quality)
    except FacepointsError as e:
        raise SystemExit(f"error: {e}") from None


def pack(data: Path, out_dir: Path, framing: Framing, quality: int) -> None:
    for name, relative in SETS.items():
        started = time.perf_counter()
        samples, scheme = read_landmark_csv(data / relative)
        crops, skipped = aligned_crops(samples, scheme, framing, progress=True, source=str(data / relative))
        out = out_dir / f"{name}.npz"
        save_packed(crops, out, quality=quality)
        seconds = time.perf_counter() - started
        print(f"{out}: {len(crops)} faces of {len(set(crops.groups))} groups, {out.stat().st_size / 2**20:.1f} MiB, "
              f"{len(skipped)} left out, {seconds:.0f} s")
        for face, reason in skipped:
            print(f"  left out {face}: {reason}")


if __name__ == "__main__":
    main()
