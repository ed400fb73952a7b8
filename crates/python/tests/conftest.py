"""Shared fixtures: the repository root and the CLI whose JSON the package must reproduce.

The CLI is `$SXPLAN_BIN` when set (CI sets it to the release binary it built), else
`cargo run --release --quiet --` from the repository root."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def run_cli(*args, check=True):
    bin_ = os.environ.get("SXPLAN_BIN")
    cmd = [bin_] if bin_ else ["cargo", "run", "--release", "--quiet", "--"]
    proc = subprocess.run(
        cmd + [str(a) for a in args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"sxplan {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def cli_json(*args):
    return json.loads(run_cli(*args).stdout)


@pytest.fixture
def root():
    return ROOT
