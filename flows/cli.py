"""The `rtt` command.

    rtt run pipeline|STAGE --config NAME|PATH --set key=value ... [--run-id ID] [--round R]
    rtt compare --config NAME|PATH [--arms a,b] [--seeds N] [--seed BASE] [--out FILE.json] [--notes FILE.md]
                [--set k=v ...]
    rtt rescore --run RUN [--round R] --judge rule|llm|auto [--set k=v ...] | --relevance discriminator:PATH|gold|...
    rtt sql "SELECT ..." [--format table|csv|json]
    rtt show ROLLOUT_ID [--html PATH]
    rtt report RUN_ID [RUN_ID ...] [--html PATH]
    rtt campaign start|continue|status NAME [--config NAME|PATH --set k=v ...] [--rounds R] [--data-dir D] [--wait MIN]
    rtt serve [--cron "0 3 * * *" | --interval SECONDS] [--campaign NAME --rounds R]
    rtt deploy [--file prefect.yaml]
    rtt ui

`run`, `compare`, `campaign`, `serve` and `deploy` go through the Prefect flows of this package (imported only
when those commands run, so that `sql`, `show` and the rest start without Prefect); `sql` and `show`
read the artifact lake directly. The CLI lives here, above the flows it starts; `rtt/` never
imports it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

from rtt.config import load_config
from rtt.stages import STAGE_NAMES, STAGES, get_stage

PREFECT_UNREACHABLE = ("Failed to reach API", "Timed out while attempting to connect to ephemeral Prefect API")
PREFECT_UI_HELP = """\
Prefect UI:  prefect server start   (then http://127.0.0.1:4200; set PREFECT_API_URL=http://127.0.0.1:4200/api
             in the shell that runs `rtt run` or `rtt serve` so flow runs show up there)"""


def ui_help(tracking: str = "mlflow") -> str:
    """How to open the MLflow UI on a run's tracking store (`tracking_uri`: a folder, an SQLite
    URI or a tracking server) and the Prefect UI."""
    from rtt.tracking import local_store

    if "://" not in tracking:
        tracking = local_store(tracking)
    if tracking.startswith("sqlite:"):
        mlflow = f"mlflow ui --backend-store-uri {tracking} --port 5000   (then http://127.0.0.1:5000)"
    else:
        mlflow = f"{tracking}   (the tracking server's own UI)"
    return f"MLflow UI:   {mlflow}\n{PREFECT_UI_HELP}"


def cmd_run(args) -> int:
    """Run the pipeline or one stage holding the run's lock; exit 2 if another process holds it or
    the run exists with other settings, 130 on Ctrl-C (after saying how to resume)."""
    cfg = load_config(args.config, args.set)  # fail fast on a bad preset or override, before Prefect starts
    from functools import partial

    from rtt.run_lock import RunLocked, run_lock
    from rtt.runs import ConfigMismatch, check_resumable, new_run_id, resume_command

    if args.stage != "pipeline" and get_stage(args.stage).per_round and not args.run_id:
        raise SystemExit(f"rtt run {args.stage} needs --run-id of a run whose earlier stages exist")
    run_id = args.run_id or new_run_id(cfg)
    try:
        with run_lock(cfg.data_dir, run_id):  # taken here for a clear refusal; the flows take it again
            if args.stage == "pipeline":
                check_resumable(cfg, run_id)
            result, code = run_guarded(
                partial(run_flow, args, run_id),
                f"run {run_id} stopped; its finished stages and saved training state are kept",
                resume_command(args.config, args.set, run_id, args.stage, args.round),
            )
    except (RunLocked, ConfigMismatch) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if code is not None:
        return code
    if args.stage == "pipeline":
        print_pipeline_summary(result, cfg)
    else:
        print(json.dumps(result, indent=2))
    return 0


def prefect_unreachable_help(err: RuntimeError) -> str:
    """What to do when Prefect's API does not answer (a temporary server slow to start, or a
    configured one that is down)."""
    api = os.environ.get("PREFECT_API_URL")
    if api:
        where = (
            f"PREFECT_API_URL is {api}: start that server (`prefect server start`) or unset the "
            "variable to let rtt start a temporary one."
        )
    else:
        wait = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
        where = (
            f"rtt started a temporary Prefect server and waited {wait} s for it. On a busy machine, wait "
            "longer (export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=600), or start one server "
            "and reuse it: `prefect server start` in another shell, then "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api."
        )
    return f"error: Prefect's API did not answer: {str(err).splitlines()[0][:300]}\n{where}"


def run_flow(args, run_id: str) -> dict:
    """The pipeline's or the stage's flow, run now; what it returned."""
    from flows.pipeline import pipeline
    from flows.stages import FLOWS

    if args.stage == "pipeline":
        return pipeline(config=args.config, overrides=args.set, run_id=run_id)
    return FLOWS[args.stage](config=args.config, overrides=args.set, run_id=run_id, round=args.round)


def print_pipeline_summary(result: dict, cfg) -> None:
    from rtt.data.store import Store
    from rtt.eval.stage import BENCHMARK

    store = Store(cfg.data_dir)
    print("\n== rtt pipeline finished ==")
    print(f"run id: {result['run_id']}")
    print("wall time per stage (s): " + ", ".join(f"{k} {v}" for k, v in result["wall_s"].items()))
    evals = {k: v for k, v in result["stages"].items() if k.startswith("eval")}
    for name, s in evals.items():
        print(f"{name}: prompt accuracy {s.get('prompt_accuracy')}, item accuracy {s.get('item_accuracy')}")
    print(f"tables: {store.table_dir('<table>').absolute()}/<run_id>/*.parquet")
    print(
        f'SQL:    rtt sql "SELECT round, step, reward_mean, item_pass_rate FROM train_steps '
        f"WHERE run_id = '{result['run_id']}' ORDER BY round, step\""
    )
    data_dir = "" if cfg.data_dir == "data" else f" --data-dir {cfg.data_dir}"
    print(f"pages:  rtt report {result['run_id']}{data_dir}   (learning curves); each round's relevance pages in")
    print(f"        {store.run_dir(result['run_id']).absolute()}/ (also in MLflow)")
    print(ui_help(cfg.tracking_uri))
    heldout = {
        r["round"]: (r["value"], r["n"])
        for r in store.rows("evals", result["run_id"])
        if r["benchmark"] == BENCHMARK and r["metric"] == "item_accuracy" and r["n"]
    }
    print("\n".join(what_changed(result["stages"], heldout, cfg.grpo.steps)))


def what_changed(stages: dict[str, dict], heldout: dict[int, tuple[float, int]], steps: int) -> list[str]:
    """The summary's last lines: each round's training reward, first step -> last; the held-out item
    accuracy before training (round -1) and after each round, with its 95% Wilson interval and n;
    and what a run this size can and cannot show."""
    from rtt.stats import wilson_interval

    rewards = [
        f"round {name.split('-r')[1]} {s['reward_first']:.3f} -> {s['reward_last']:.3f}"
        for name, s in stages.items()
        if name.startswith("grpo-r") and "reward_first" in s
    ]
    lines = ["\nwhat changed:"]
    if rewards:
        lines.append(f"  training reward (mean over a step's responses), first step -> last: {', '.join(rewards)}")
    intervals = {r: (acc, n, *wilson_interval(acc, n)) for r, (acc, n) in sorted(heldout.items())}
    if intervals:
        shown = [
            f"{'before training' if r < 0 else f'after round {r}'} {acc:.3f} [{low:.2f}, {high:.2f}] (n={n})"
            for r, (acc, n, low, high) in intervals.items()
        ]
        lines.append("  held-out item accuracy [95% interval]: " + "; ".join(shown))
        half = max((high - low) / 2 for _, _, low, high in intervals.values())
        n = min(n for _, n, _, _ in intervals.values())
        lines.append(
            f"  a run this size ({len(rewards)} round(s) of {steps} steps, {n} held-out items) shows that "
            f"the pipeline trains end to end; a change in accuracy under about +/-{half:.2f} is noise here"
        )
        lines.append(
            '  whether RTT learns more than GRPO: rtt compare --config learn --seeds 2 (README, "Does it learn?")'
        )
    return lines


def compare_command(args, experiment_id: str) -> str:
    import shlex

    words = [
        "rtt",
        "compare",
        "--config",
        args.config,
        "--seeds",
        str(args.seeds),
        "--seed",
        str(args.seed),
        *(["--arms", args.arms] if args.arms else []),
        *[w for o in args.set for w in ("--set", o)],
        *(["--out", args.out] if args.out else []),
        *(["--notes", args.notes] if args.notes else []),
        "--experiment-id",
        experiment_id,
    ]
    return shlex.join(words)


def cmd_compare(args) -> int:
    """Arms x seeds as ordinary runs on the same prompts, then the report (printed, JSON, pages)."""
    from rtt.compare.experiment import plan_experiment
    from rtt.compare.page import COLUMNS, table_rows

    arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
    try:  # every run's config, and the notes file, are checked before anything starts
        plan = plan_experiment(args.config, args.set, arms, args.seeds, args.seed, args.experiment_id)
        notes = Path(args.notes).read_text() if args.notes else ""
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from functools import partial

    from flows.compare import compare

    report, code = run_guarded(
        partial(
            compare,
            config=args.config,
            arms=list(plan.arms),
            seeds=args.seeds,
            seed=args.seed,
            overrides=args.set,
            experiment_id=plan.experiment_id,
            out=args.out,
            notes=notes,
        ),
        f"experiment {plan.experiment_id} stopped; finished runs and stages are kept",
        compare_command(args, plan.experiment_id),
    )
    if code is not None:
        return code
    print(f"\n== rtt compare {plan.experiment_id} ==")
    print(format_table(COLUMNS, [dict(zip(COLUMNS, row)) for row in table_rows(report)], width=48))
    print("\n".join(f"{kind}: {path}" for kind, path in report["paths"].items()))
    if args.out:
        print(f"json: {args.out}")
    return 0


def run_guarded(call, stopped: str, resume: str):
    """Start Prefect's temporary server (when no API is set) and make the flow call: (what it
    returned, None), or (None, exit code) after saying how to resume: 130 on Ctrl-C, 2 when
    Prefect's API does not answer."""
    from flows.server import start_temporary_server

    try:
        start_temporary_server()
        return call(), None
    except KeyboardInterrupt:
        print(f"\ninterrupted: {stopped}.\nresume with: {resume}", file=sys.stderr)
        return None, 130
    except RuntimeError as err:
        if not any(sign in str(err) for sign in PREFECT_UNREACHABLE):
            raise
        print(prefect_unreachable_help(err) + f"\nonce it answers, start or continue with: {resume}", file=sys.stderr)
        return None, 2


def cmd_sql(args) -> int:
    import warnings

    import duckdb

    from rtt.data.catalog import LakeWarning, ReadOnlyError, query
    from rtt.data.store import LakeError, Store

    with warnings.catch_warnings(record=True) as damaged:
        warnings.simplefilter("always", LakeWarning)
        try:
            table = query(Store(args.data_dir), args.query)
        except (ReadOnlyError, LakeError, duckdb.Error) as err:
            print(err, file=sys.stderr)
            return 2
        finally:
            for warning in damaged:
                print(f"warning: {warning.message}", file=sys.stderr)
    names = unique_names(table.column_names)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [dict(zip(names, values)) for values in zip(*columns)]
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows(zip(*columns))
    else:
        print(format_table(names, rows))
    return 0


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique (`x`, `x_2`, ...) so a join selecting `a.x, b.x` keeps both."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def format_table(columns: list[str], rows: list[dict], width: int = 40) -> str:
    def cell(value) -> str:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

    cells = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths)), "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    lines.append(f"({len(rows)} rows)")
    return "\n".join(lines)


def cmd_show(args) -> int:
    from rtt.data.store import Store
    from rtt.relevance_view import render_html, render_terminal

    store = Store(args.data_dir)
    try:
        page = render_html(store, [args.rollout_id]) if args.html else render_terminal(store, args.rollout_id)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    if args.html:
        with open(args.html, "w") as handle:
            handle.write(page)
        print(f"wrote {args.html}")
    else:
        print(page)
    return 0


def cmd_constraints(args) -> int:
    """List the rule checkers, or grade one response on one of them and show its spans."""
    from rtt.constraints import check, describe
    from rtt.constraints.registry import IFEVAL_IDS, REGISTRY, kind_name

    if args.id is None:
        for instruction_id, entry in REGISTRY.items():
            origin = "ifeval" if instruction_id in IFEVAL_IDS else "rtt"
            kwargs = ", ".join(f"{k}: {kind_name(v)}" for k, v in entry.kwargs.items())
            print(f"{instruction_id:45s} {origin:6s} {{{kwargs}}}")
        return 0
    try:
        kwargs = json.loads(args.kwargs)
        text = describe(args.id, kwargs)
        verdict = check(args.id, kwargs, args.response) if args.response is not None else None
    except (ValueError, json.JSONDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(text)
    if verdict is not None:
        print("PASS" if verdict.passed else "FAIL")
        for start, end in verdict.spans:
            print(f"  [{start}, {end}) {args.response[start:end]!r}")
    return 0


def cmd_report(args) -> int:
    """Runs side by side (printed), and the HTML page of their curves (written and logged to MLflow)."""
    from pathlib import Path

    from rtt.data.store import Store
    from rtt.report import load_report, render_report, setting_differences, side_by_side
    from rtt.tracking import Tracker

    store = Store(args.data_dir)
    try:
        report = load_report(store, args.run_ids)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    print(format_table(*side_by_side(report)))
    columns, rows = setting_differences(report)
    if rows:
        print("\nsettings that differ:\n" + format_table(columns, rows))
    out = Path(args.html or store.state / "reports" / f"report-{'-'.join(args.run_ids)}.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(report))
    print(f"wrote {out}")
    tracker = Tracker.open(
        args.tracking_uri, args.experiment, "report", tags={"rtt.report_runs": ",".join(args.run_ids)}
    )
    tracker.log_artifact(out)
    tracker.finish()
    return 0


def cmd_campaign(args) -> int:
    """Start or continue a campaign (a Prefect flow run), or print where it stands."""
    from functools import partial

    from rtt.campaigns import CampaignError
    from rtt.config import ConfigError
    from rtt.run_lock import RunLocked

    try:
        if args.action == "status":
            return print_campaign_status(args.name, args.data_dir)
        from flows.campaign import campaign_continue, campaign_start

        if args.action == "start":
            data_dir = load_config(args.config, args.set).data_dir
            call = partial(
                campaign_start, campaign=args.name, config=args.config, overrides=args.set, rounds=args.rounds
            )
        else:
            data_dir = args.data_dir
            call = partial(
                campaign_continue,
                campaign=args.name,
                rounds=args.rounds or 1,
                data_dir=data_dir,
                wait_minutes=args.wait,
            )
        row, code = run_guarded(
            call,
            f"campaign {args.name} stopped; finished rounds and saved training state are kept",
            f"rtt campaign continue {args.name} --data-dir {data_dir}",
        )
    except (CampaignError, ConfigError, RunLocked) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if code is not None:
        return code
    print(f"\n== campaign {args.name}: continuation {row['continuation']} {row['status']} ==")
    print(
        f"rounds {row['first_round']}-{row['last_round']}, steps {row['first_step']}-{row['last_step']}, "
        f"held-out item accuracy {row['item_accuracy']} (n={row['eval_n']})"
    )
    print(f"policy: {row['final_policy']}\nstatus: rtt campaign status {args.name} --data-dir {data_dir}")
    return 0


def print_campaign_status(name: str, data_dir: str) -> int:
    from rtt.campaigns import heldout_curve, history, load
    from rtt.data.store import Store
    from rtt.tracking import model_versions, registered_model_name, registered_model_path

    campaign, store = load(name, data_dir), Store(data_dir)
    print(
        f"campaign {name}: preset {campaign.preset}, overrides {campaign.overrides or 'none'}, "
        f"started {campaign.created_at}"
    )
    rows = history(store, name)
    columns = [
        "continuation",
        "status",
        "first_round",
        "last_round",
        "first_step",
        "last_step",
        "item_accuracy",
        "eval_n",
        "prompts_drawn",
        "pool_size",
        "started_at",
        "ended_at",
        "start_policy",
    ]
    print("\ncontinuations:\n" + format_table(columns, rows, width=60))
    curve = heldout_curve(store, name)
    print(
        "\nheld-out accuracy by round (-1: the starting policy):\n"
        + format_table(["round", "item_accuracy", "prompt_accuracy", "n"], curve)
    )
    done = [r for r in rows if r["status"] == "completed"]
    if done:
        print(f"\nlatest policy: {done[-1]['final_policy']}")
    cfg = load_config(campaign.preset, campaign.overrides)
    for kind in ("policy", "discriminator"):
        model = registered_model_name(name, kind)
        try:
            versions = model_versions(cfg.tracking_uri, model)
        except Exception as err:  # the registry is telemetry: status still prints
            print(f"\nmodel registry ({cfg.tracking_uri}) not readable: {err}")
            break
        if versions:
            print(
                f"\nregistered model {model} ({cfg.tracking_ui.rstrip('/')}/{registered_model_path(model)}):\n"
                + format_table(
                    ["version", "round", "metric", "value", "n", "aliases"],
                    [{**v, "aliases": ", ".join(v["aliases"])} for v in versions],
                )
            )
    print(f"continue: rtt campaign continue {name} --data-dir {data_dir} --rounds 1")
    return 0


def cmd_rescore(args) -> int:
    """Judge a run's stored rollouts again (--judge) or score their token relevance again (--relevance),
    beside the original rows; print the agreement with them per item kind, then the summary as JSON.
    Exit 2 naming a missing run, round or checkpoint, or a bad override."""
    from rtt.data.store import Store
    from rtt.rescore import RELEVANCE_COLUMNS, VERDICT_COLUMNS, rescore

    try:
        summary = rescore(Store(args.data_dir), args.run, args.round, args.judge, args.relevance, args.set)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    what = f"judge {summary['judge']}" if args.judge else f"relevance {summary['source']}"
    print(f"== rtt rescore {args.run}: {what} vs the run's own, rounds {summary['rounds']} ==")
    print(format_table(VERDICT_COLUMNS if args.judge else RELEVANCE_COLUMNS, summary["agreement"]))
    print(json.dumps(summary))
    return 0


def cmd_serve(args) -> int:
    from flows.deploy import serve

    serve(
        config=args.config,
        overrides=args.set,
        cron=args.cron,
        interval=args.interval,
        campaign=args.campaign,
        rounds=args.rounds,
        data_dir=args.data_dir,
        limit=args.limit or None,
    )
    return 0


def cmd_deploy(args) -> int:
    from flows.deploy import deploy_to_pools

    for name in deploy_to_pools(Path(args.file)):
        print(f"deployed {name}")
    return 0


def cmd_ui(args) -> int:
    print(ui_help(args.tracking_uri))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rtt", description="Rubrics to Tokens: rubric-based RL with token-level rewards")
    sub = p.add_subparsers(dest="command", required=True)

    stages = "\n".join(f"  {s.name:15s}{s.description}" for s in STAGES)
    run = sub.add_parser(
        "run",
        help="run the pipeline or one stage as a Prefect flow",
        epilog=f"stages, in pipeline order:\n{stages}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("stage", choices=("pipeline", *STAGE_NAMES))
    run.add_argument("--config", default="demo", help="preset name (demo, smoke, gpu) or a YAML path")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. grpo.lr=1e-6")
    run.add_argument("--run-id", default=None, help="run to create or continue")
    run.add_argument("--round", type=int, default=0, help="round of a single stage (eval: -1 = starting policy)")
    run.set_defaults(fn=cmd_run)

    cmp = sub.add_parser("compare", help="run named arms x seeds on the same prompts and report which learned more")
    cmp.add_argument("--config", default="testbed", help="preset name (testbed, learn, ...) or a YAML path")
    cmp.add_argument(
        "--arms",
        default=None,
        help="comma-separated arms (default: compare.default_arms, else all): "
        "rtt, rtt-gold, rtt-uniform, rtt-random, grpo-aon, grpo-csr, or arms of compare.arms",
    )
    cmp.add_argument("--seeds", type=int, default=1, help="seeds per arm")
    cmp.add_argument("--seed", type=int, default=0, help="first seed (also the seed of the prompts)")
    cmp.add_argument("--out", default=None, metavar="FILE.json", help="also write the report JSON here")
    cmp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override for every arm")
    cmp.add_argument("--experiment-id", default=None, help="experiment to create or continue")
    cmp.add_argument(
        "--notes",
        default=None,
        metavar="FILE.md",
        help="markdown appended to the report pages "
        "(your reading of the numbers; rerun with the same --experiment-id to rewrite the pages)",
    )
    cmp.set_defaults(fn=cmd_compare)

    sql = sub.add_parser("sql", help="read-only SQL over all tables (DuckDB)")
    sql.add_argument("query")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--data-dir", default="data")
    sql.set_defaults(fn=cmd_sql)

    show = sub.add_parser("show", help="a rollout with its tokens coloured by relevance per rubric item")
    show.add_argument("rollout_id")
    show.add_argument("--data-dir", default="data")
    show.add_argument("--html", default=None, metavar="PATH", help="write an HTML page instead")
    show.set_defaults(fn=cmd_show)

    constraints = sub.add_parser("constraints", help="list the rule checkers, or grade a response on one")
    constraints.add_argument("id", nargs="?", help="an instruction id, e.g. punctuation:no_comma")
    constraints.add_argument(
        "--kwargs", default="{}", help='its kwargs as JSON, e.g. \'{"num_words": 50, "relation": "less than"}\''
    )
    constraints.add_argument("--response", default=None, help="a response to grade; prints the verdict and its spans")
    constraints.set_defaults(fn=cmd_constraints)

    report = sub.add_parser("report", help="runs side by side, and an HTML page of their learning curves")
    report.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    report.add_argument("--data-dir", default="data")
    report.add_argument("--html", default=None, metavar="PATH", help="where to write the page (default data/reports/)")
    report.add_argument("--tracking-uri", default="mlflow", help="MLflow store the page is logged to")
    report.add_argument("--experiment", default="rtt")
    report.set_defaults(fn=cmd_report)

    campaign = sub.add_parser("campaign", help="a named series of rounds: start it, continue it, see where it stands")
    campaign.add_argument("action", choices=("start", "continue", "status"))
    campaign.add_argument("name", help="the campaign's name (also its run id)")
    campaign.add_argument("--config", default="demo", help="start: preset name or YAML path")
    campaign.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="start: override, kept for good"
    )
    campaign.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds this continuation trains (default: start, the preset's rounds; continue, 1)",
    )
    campaign.add_argument("--data-dir", default="data", help="continue/status: the lake the campaign lives in")
    campaign.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="continue: wait this long for a running continuation to end (default: refuse at once)",
    )
    campaign.set_defaults(fn=cmd_campaign)

    rescore = sub.add_parser(
        "rescore",
        help="judge a run's stored rollouts again, or score their token relevance "
        "again, and compare with the run's own",
    )
    rescore.add_argument("--run", required=True, metavar="RUN_ID")
    rescore.add_argument("--round", type=int, default=None, help="one round (default: every round with rollouts)")
    rescore.add_argument("--data-dir", default="data")
    what = rescore.add_mutually_exclusive_group(required=True)
    what.add_argument("--judge", choices=("rule", "llm", "auto"), help="judge.mode of the new verdicts")
    what.add_argument("--relevance", metavar="SOURCE", help="discriminator:PATH, gold, lexical, uniform or random")
    rescore.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override on the run's saved config, e.g. judge.llm.model=...",
    )
    rescore.set_defaults(fn=cmd_rescore)

    serve = sub.add_parser("serve", help="serve the flows as Prefect deployments (for the UI and schedules)")
    serve.add_argument("--config", default="demo", help="the deployments' default preset")
    serve.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="the deployments' default overrides"
    )
    serve.add_argument(
        "--cron",
        default=None,
        help="a schedule, e.g. '0 3 * * *': continues --campaign, else starts a new pipeline run each time",
    )
    serve.add_argument(
        "--interval", type=float, default=None, metavar="SECONDS", help="a schedule every SECONDS (as --cron)"
    )
    serve.add_argument("--campaign", default=None, help="the campaign the schedule continues")
    serve.add_argument("--rounds", type=int, default=1, help="rounds each scheduled continuation trains")
    serve.add_argument("--data-dir", default="data", help="the lake the campaign lives in")
    serve.add_argument(
        "--limit",
        type=int,
        default=1,
        help="flow runs at once (0: no limit; default 1, one training run has the machine)",
    )
    serve.set_defaults(fn=cmd_serve)

    deploy = sub.add_parser(
        "deploy", help="register prefect.yaml's deployments on their work pools (as `prefect deploy --all`)"
    )
    deploy.add_argument("--file", default="prefect.yaml", help="the deployments file (run from its folder)")
    deploy.set_defaults(fn=cmd_deploy)

    ui = sub.add_parser("ui", help="how to open the MLflow and Prefect UIs")
    ui.add_argument("--tracking-uri", default="mlflow", help="the MLflow store: a folder (default), or a URI")
    ui.set_defaults(fn=cmd_ui)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    raise SystemExit(main())
