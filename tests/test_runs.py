import json

import pytest

from rtt.config import config_dict, load_config
from rtt.runs import RESUMABLE_CHANGES, ConfigMismatch, check_resumable, config_differences, within


def saved_without(cfg, section: str, key: str) -> dict:
    """The config as a run saved it before `section.key` existed."""
    saved = config_dict(cfg)
    del saved[section][key]
    return saved


def test_a_changed_setting_is_a_difference():
    saved = config_dict(load_config("smoke", ["grpo.lr=1e-5"]))
    assert config_differences(load_config("smoke", ["grpo.lr=3e-5"]), saved) == ["grpo.lr: 1e-05 -> 3e-05"]


def test_a_setting_added_since_the_run_started_is_no_difference_at_its_default():
    cfg = load_config("smoke")
    assert config_differences(cfg, saved_without(cfg, "grpo", "relevance_threshold")) == []
    changed = load_config("smoke", ["grpo.relevance_threshold=0.5"])
    assert config_differences(changed, saved_without(cfg, "grpo", "relevance_threshold")) == [
        "grpo.relevance_threshold: None -> 0.5"
    ]


def test_where_it_writes_and_the_compare_section_may_change():
    saved = config_dict(load_config("smoke"))
    now = load_config("smoke", ["data_dir=/elsewhere", "compare.smooth_steps=9", "compare.arms={x: {grpo.lr: 1.0}}"])
    assert config_differences(now, saved, RESUMABLE_CHANGES) == []
    assert config_differences(now, saved) != []  # only because they are allowed


def test_check_resumable_refuses_other_settings_naming_the_file_and_key(tmp_path):
    cfg = load_config("smoke", [f"data_dir={tmp_path}", "grpo.lr=1e-5"])
    path = tmp_path / "runs" / "r1" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(config_dict(cfg)))
    check_resumable(cfg, "r1")  # same settings: fine
    with pytest.raises(ConfigMismatch, match=r"config\.json.*grpo\.lr: 1e-05 -> 2e-05"):
        check_resumable(load_config("smoke", [f"data_dir={tmp_path}", "grpo.lr=2e-5"]), "r1")


def test_within_matches_a_key_or_the_keys_of_a_section():
    assert within("rounds", RESUMABLE_CHANGES) and within("compare.arms.x.grpo.lr", RESUMABLE_CHANGES)
    assert not within("compare_other", ("compare",)) and not within("grpo.lr", RESUMABLE_CHANGES)
