"""The SIMULATED demo monitoring series of the eco-compensation tool (``ecocomp_demo.csv``).

Four cross-border sections between adjacent Sichuan–Chongqing county-level units (adjacent in
the dataset's boundaries); the section names (川渝界 A–D 断面) are made up and name no real
monitoring station; which side is upstream is illustrative. Every value is simulated:

    C_{s,i,t} = B_{s,i} · g_s^{t/12} · (1 + a · cos(2π (month_t − 7) / 12)) · exp(σ z − σ²/2),

B_{s,i} the section's base level of item i (mg/L, chosen to sit around classes II–III of
GB 3838), g_s its yearly drift factor (< 1 improving, > 1 worsening), t = 0 … months − 1,
a = 0.15 a wet-season (July) peak, σ = 0.12, z standard normal drawn from one stream per
section (``numpy.random.SeedSequence(seed).spawn(n)``, default seed 20241203); values rounded
to 0.001 mg/L. Regenerate the shipped file with ``python -m cocity.plan.ecocomp_demo``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cocity.plan.ecocomp_rules import ITEMS

SEED = 20241203
FIRST, MONTHS = (2022, 1), 36
AMPLITUDE, SIGMA = 0.15, 0.12
DEMO_FILE = "ecocomp_demo.csv"

# section, upstream, downstream, base levels (codmn, nh3n, tn, tp in mg/L), yearly drift
SECTIONS: tuple[tuple[str, str, str, tuple[float, float, float, float], float], ...] = (
    ("川渝界 A 断面", "武胜县", "合川区", (2.8, 0.30, 1.6, 0.09), 0.93),
    ("川渝界 B 断面", "安岳县", "潼南区", (4.6, 0.55, 2.2, 0.16), 1.00),
    ("川渝界 C 断面", "荣昌区", "泸县", (5.2, 0.80, 2.8, 0.19), 1.08),
    ("川渝界 D 断面", "合江县", "江津区", (2.2, 0.12, 1.4, 0.07), 0.98),
)


def simulate_demo(seed: int = SEED) -> pd.DataFrame:
    """The simulated series (module docstring), one row per section and month, wide form."""
    streams = np.random.SeedSequence(seed).spawn(len(SECTIONS))
    y0, m0 = FIRST
    months = [(y0 + (m0 - 1 + k) // 12, (m0 - 1 + k) % 12 + 1) for k in range(MONTHS)]
    t = np.arange(MONTHS, dtype=float)
    season = 1 + AMPLITUDE * np.cos(2 * np.pi * (np.array([m for _, m in months]) - 7) / 12)
    frames = []
    for (name, up, down, base, drift), ss in zip(SECTIONS, streams, strict=True):
        z = np.random.default_rng(ss).standard_normal((MONTHS, len(ITEMS)))
        noise = np.exp(SIGMA * z - SIGMA**2 / 2)
        values = (np.array(base)[None, :] * (drift ** (t / 12))[:, None]
                  * season[:, None] * noise)
        frame = pd.DataFrame(np.round(values, 3), columns=list(ITEMS))
        frame.insert(0, "month", [f"{y:04d}-{m:02d}" for y, m in months])
        frame.insert(0, "downstream", down)
        frame.insert(0, "upstream", up)
        frame.insert(0, "section", name)
        frame["simulated"] = True
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def demo_path() -> Path:
    """The shipped demo file."""
    return Path(str(resources.files(__package__) / DEMO_FILE))


def main() -> None:  # pragma: no cover - regenerates the shipped file
    from cocity.outputs import write_csv

    write_csv(simulate_demo(), demo_path())


if __name__ == "__main__":  # pragma: no cover
    main()
