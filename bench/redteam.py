"""The red-team table: every case of the corpus (``tests/services/scorer/redteam/cases``) and the prediction
probes against a real embedded scorer (API and worker processes, SQLite, filesystem queue, the jail),
with the verdict and the PGR the agent was shown. Caches live in ``$AAR_BENCH_HOME`` (default
``~/.aar-bench``).

    .venv/bin/python -m bench.redteam [--seeds 5] [--pool 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from tests.services.scorer.redteam.harness import case_names, run_method_attacks, run_probe, table
from tests.utils.stack import ScorerStack, running, scorer_env, share_cache

TASK = "rt-polarity"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool", type=int, default=10)
    args = parser.parse_args()
    bench_home = Path(os.environ.get("AAR_BENCH_HOME", "~/.aar-bench")).expanduser()
    home = bench_home / f"redteam-{int(time.time())}"
    home.mkdir(parents=True)
    share_cache(home, bench_home / "cache")
    env = scorer_env(
        home,
        AAR_SCORER_SEEDS=str(args.seeds),
        AAR_SCORER_TEACHER_POOL=str(args.pool),
        AAR_SCORER_SUBMISSIONS_PER_DAY="100",
        AAR_SCORER_JOB_TIME_LIMIT_S="1200",
    )
    os.environ.update(
        {"AAR_HOME": str(home), "AAR_SCORING_SECRET": env.setdefault("AAR_SCORING_SECRET", os.urandom(16).hex())}
    )
    start = time.monotonic()
    with running(ScorerStack(env, home)) as stack:
        verdicts = run_method_attacks(stack.url, stack.admin_token, case_names(), timeout=3600)
        for name, flips, rounds in (("probe_small_flips", 21, 6), ("probe_large_flips", 150, 5)):
            verdicts.append(run_probe(stack.url, stack.admin_token, TASK, name, flips, rounds, timeout=600)[0])
    print(
        f"# red team on {TASK}, {args.seeds} runs from a pool of {args.pool} teachers, {platform.node()}, "
        f"{os.cpu_count()} cores, {time.monotonic() - start:.0f} s"
    )
    print(table(verdicts))


if __name__ == "__main__":
    main()
