"""The benchmark scripts still run: each once, at the smallest size, printing its table.

Nothing here times anything or compares numbers; the benchmarks themselves
(bench/, results in docs/benchmarks.md) are run by hand. The docs page is
never written from here (no --write).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import common, fanout, log_flood, startup
from tests.lab import require_lab


def bench(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", f"bench.{name}", *args], cwd=common.REPO, capture_output=True,
                            text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"<!-- bench:{name}:start" in result.stdout and f"<!-- bench:{name}:end -->" in result.stdout
    assert "\n| " in result.stdout and "| ---:" in result.stdout, result.stdout
    return result


# --- pure helpers ---


def test_table_is_markdown():
    text = common.table(["N", "time"], [[1, "2 ms"], [5, "3 ms"]])
    assert text.splitlines() == ["| N | time |", "| :--- | ---: |", "| 1 | 2 ms |", "| 5 | 3 ms |"]


def test_write_section_replaces_only_its_own_block(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nprose before\n\n<!-- bench:a:start x -->\nold\n<!-- bench:a:end -->\n\nprose after\n")
    common.write_section("a", "<!-- bench:a:start y -->\nnew\n<!-- bench:a:end -->", doc)
    common.write_section("b", "<!-- bench:b:start -->\nadded\n<!-- bench:b:end -->", doc)
    page = doc.read_text()
    assert "old" not in page and "new" in page and "prose before" in page and "prose after" in page
    assert page.index("new") < page.index("prose after") < page.index("added")


def test_sizes_must_be_whole_numbers():
    assert common.int_list("1,5,40") == [1, 5, 40]
    with pytest.raises(Exception):
        common.int_list("1,x")


# --- each script once ---


def test_startup_prints_its_table():
    result = bench("startup", "--repeats", "1")
    assert "`kwizard --version`" in result.stdout and "| no |" in result.stdout  # --version does not load Textual
    if startup.tui_unavailable() is None:
        assert "first painted welcome screen" in result.stdout


@pytest.mark.lab
def test_fanout_kwizard_alone_prints_its_table():
    require_lab()
    result = bench("fanout", "--sizes", "1", "--repeats", "1", "--tools", "kwizard")
    assert "| 1 |" in result.stdout


@pytest.mark.lab
@pytest.mark.parametrize("tool", ["pssh", "ansible"])
def test_fanout_against_each_competitor_prints_its_table(tool):
    require_lab()
    why = fanout.unavailable().get(tool)
    if why:
        pytest.skip(why)
    result = bench("fanout", "--sizes", "1", "--repeats", "1", "--tools", f"kwizard,{tool}")
    assert "kwizard/pssh" in result.stdout and "not measured" not in result.stdout


@pytest.mark.lab
def test_whole_plan_prints_its_table():
    require_lab()
    result = bench("whole_plan", "--repeats", "1")
    assert "| init |" in result.stdout and "1 of 1 applies succeeded" in result.stdout


def test_log_flood_prints_its_table():
    why = log_flood.tui_unavailable()
    if why:
        pytest.skip(why)
    result = bench("log_flood", "--rates", "1000", "--seconds", "0.5", "--lines", "2000", "--repeats", "1")
    assert "1,000 lines/s" in result.stdout and "as fast as it goes" in result.stdout


def test_the_time_to_cluster_bound_follows_the_labs_readiness_rule():
    # 1 control plane + 1 worker; what each (step, host) slept, in seconds. The lab's rule
    # (tests/lab/README.md): a node is Ready cni-start (23 s) after the plugin is applied and the
    # node exists, once its kubelet has pulled, 8.5 s each, the images it lacks.
    import yaml

    from bench.time_to_cluster import critical_path

    profile = yaml.safe_dump({
        "name": "bound", "ssh": {"user": "u"},
        "hosts": [{"name": "cp", "address": "10.0.0.1", "role": "control-plane"},
                  {"name": "w", "address": "10.0.0.2", "role": "worker"}],
        "cluster": {"install_packages": True, "cni": "flannel"},
    })
    slept = {("packages", "cp"): 10.0, ("packages", "w"): 10.0, ("node-images", "w"): 5.0,
             ("images", "cp"): 7.0, ("init", "cp"): 4.0, ("join", "w"): 2.0}
    # control plane: init ends at 21, Flannel applied then; its kubelet pulls Flannel's 2 images: 21 + 17 + 23
    assert critical_path({"profile": profile}, 1.0, slept) == pytest.approx(61.0)
    # a worker that joins late (21 + 30) pulled its images beforehand: Ready 23 s after its join
    assert critical_path({"profile": profile}, 1.0, slept | {("join", "w"): 30.0}) == pytest.approx(74.0)
    # everything scales with the lab's time scale
    halved = {k: v / 2 for k, v in slept.items()}
    assert critical_path({"profile": profile}, 0.5, halved) == pytest.approx(30.5)
