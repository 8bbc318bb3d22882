import json
import os

from flows.cli import main
from rtt.testing.rows import prompt_rows


def write_prompts(store):
    store.write("prompts", prompt_rows("r1", 3), "r1", "prompts")


def test_sql_prints_table_csv_and_json(store, capsys):
    write_prompts(store)
    sql = "SELECT prompt_id, prompt FROM prompts ORDER BY prompt_id"
    assert main(["sql", sql, "--data-dir", str(store.root)]) == 0
    assert "p2" in capsys.readouterr().out
    assert main(["sql", sql, "--data-dir", str(store.root), "--format", "csv"]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == ["prompt_id,prompt", "p0,q0"]
    assert main(["sql", sql, "--data-dir", str(store.root), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[1] == {"prompt_id": "p1", "prompt": "q1"}


def test_sql_refuses_a_write_with_a_clear_message(store, capsys):
    write_prompts(store)
    assert main(["sql", "DELETE FROM prompts", "--data-dir", str(store.root)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert len(store.rows("prompts")) == 3


def test_run_rejects_a_bad_override_before_anything_runs(capsys):
    import pytest

    from rtt.config import ConfigError

    with pytest.raises(ConfigError, match="grpo.nope"):
        main(["run", "grpo", "--config", "smoke", "--set", "grpo.nope=1", "--run-id", "x"])


def test_sql_keeps_columns_with_the_same_name(store, capsys):
    write_prompts(store)
    sql = "SELECT a.prompt, b.prompt FROM prompts a JOIN prompts b ON a.prompt_id < b.prompt_id ORDER BY 1, 2"
    assert main(["sql", sql, "--data-dir", str(store.root), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0] == {"prompt": "q0", "prompt_2": "q1"}
    assert main(["sql", sql, "--data-dir", str(store.root), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "q0,q1"


def test_show_names_a_missing_rollout(store, capsys):
    write_prompts(store)
    assert main(["show", "nope", "--data-dir", str(store.root)]) == 2
    assert "no rollout 'nope'" in capsys.readouterr().err


def test_sql_reports_a_bad_query_without_a_traceback(store, capsys):
    assert main(["sql", "SELECT nope FROM prompts", "--data-dir", str(store.root)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["sql", "SELECT * FROM no_such_table", "--data-dir", str(store.root)]) == 2
    assert "no_such_table" in capsys.readouterr().err


def test_constraints_lists_every_checker_and_grades_a_response(capsys):
    from rtt.constraints import INSTRUCTION_IDS

    assert main(["constraints"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(INSTRUCTION_IDS)
    assert main(["constraints", "punctuation:no_comma", "--response", "a, b"]) == 0
    assert capsys.readouterr().out.splitlines() == ["The response does not contain any commas.", "FAIL", "  [1, 2) ','"]
    assert main(["constraints", "length:words_between", "--kwargs", '{"min_words": 5}']) == 2
    assert "length:words_between: missing kwarg 'max_words'" in capsys.readouterr().err


def test_run_says_what_to_do_when_prefect_does_not_answer(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "run",
            "pipeline",
            "--config",
            "smoke",
            "--set",
            f"data_dir={tmp_path / 'data'}",
            "--set",
            f"tracking_uri={tmp_path / 'mlflow'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert (
        "Prefect's API did not answer" in done.stderr
        and f"PREFECT_API_URL is http://127.0.0.1:{port}/api" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_compare_refuses_an_unknown_arm_or_setting_before_anything_runs(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["compare", "--config", "smoke", "--arms", "rtt,nope", "--set", f"data_dir={data}"]) == 2
    assert "unknown arm(s) ['nope']" in capsys.readouterr().err
    assert main(["compare", "--config", "smoke", "--set", "grpo.nope=1", "--set", f"data_dir={data}"]) == 2
    assert "grpo.nope" in capsys.readouterr().err
    assert (
        main(["compare", "--config", "smoke", "--notes", str(tmp_path / "reading.md"), "--set", f"data_dir={data}"])
        == 2
    )
    assert "reading.md" in capsys.readouterr().err
    assert not data.exists()  # nothing ran, nothing was written


def test_compare_command_line_resumes_the_same_experiment():
    import argparse

    from flows.cli import compare_command

    args = argparse.Namespace(
        config="learn", seeds=2, seed=0, arms="rtt,grpo-aon", set=["grpo.steps=3"], out="x.json", notes="my reading.md"
    )
    assert compare_command(args, "e1") == (
        "rtt compare --config learn --seeds 2 --seed 0 --arms rtt,grpo-aon "
        "--set grpo.steps=3 --out x.json --notes 'my reading.md' --experiment-id e1"
    )


def test_the_demo_summary_ends_with_what_changed_and_what_its_size_can_show():
    from flows.cli import what_changed

    stages = {
        "grpo-r0": {"reward_first": 0.125, "reward_last": 0.25},
        "eval-r0": {"item_accuracy": 0.3333},
        "grpo-r1": {"reward_first": 0.1875, "reward_last": 0.3125},
    }
    # 8 of 27 and 9 of 27 items; Wilson at 95%: [0.16, 0.48] and [0.19, 0.52] (half-width 0.166)
    lines = what_changed(stages, {-1: (8 / 27, 27), 0: (9 / 27, 27), 1: (9 / 27, 27)}, steps=3)
    assert lines[1] == (
        "  training reward (mean over a step's responses), first step -> last: round 0 0.125 -> 0.250, "
        "round 1 0.188 -> 0.312"
    )
    assert lines[2] == (
        "  held-out item accuracy [95% interval]: before training 0.296 [0.16, 0.48] (n=27); "
        "after round 0 0.333 [0.19, 0.52] (n=27); after round 1 0.333 [0.19, 0.52] (n=27)"
    )
    assert "2 round(s) of 3 steps, 27 held-out items" in lines[3] and "+/-0.17 is noise" in lines[3]
    assert lines[4].startswith("  whether RTT learns more than GRPO: rtt compare --config learn")
    assert what_changed({}, {}, steps=3) == ["\nwhat changed:"]  # a run with no training or eval yet


def test_ui_help_opens_the_runs_own_mlflow_store(capsys):
    from flows.cli import ui_help

    assert ui_help().startswith("MLflow UI:   mlflow ui --backend-store-uri sqlite:///mlflow/mlflow.db --port 5000")
    assert "--backend-store-uri sqlite:////tmp/runs/mlflow.db " in ui_help("/tmp/runs/")  # a folder elsewhere
    assert "--backend-store-uri sqlite:///x.db " in ui_help("sqlite:///x.db")
    assert ui_help("http://mlflow.example:5000").startswith("MLflow UI:   http://mlflow.example:5000   (the tracking")
    assert main(["ui", "--tracking-uri", "/tmp/runs"]) == 0
    printed = capsys.readouterr().out
    assert "sqlite:////tmp/runs/mlflow.db" in printed and "prefect server start" in printed
