import json

import pytest

from rtt.config import PRESETS_DIR, Config, ConfigError, flat_params, load_config, save_config


@pytest.mark.parametrize("name", sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
def test_every_shipped_preset_loads(name):
    cfg = load_config(name)
    assert cfg.name == name


def test_overrides_are_typed_and_nested():
    cfg = load_config("demo", ["grpo.lr=3e-6", "grpo.token_norm=inter_sample", "rounds=5", "model.device=cpu"])
    assert cfg.grpo.lr == 3e-6 and cfg.grpo.token_norm == "inter_sample" and cfg.rounds == 5


def test_unknown_key_is_rejected_with_its_dotted_name():
    with pytest.raises(ConfigError, match=r"grpo\.learning_rate"):
        load_config("demo", ["grpo.learning_rate=1e-6"])


def test_unknown_key_in_a_yaml_file_names_the_file_and_key(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ndiscriminator:\n  epochz: 3\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml.*discriminator\.epochz"):
        load_config(str(path))


def test_wrong_type_and_bad_choice_are_rejected():
    with pytest.raises(ConfigError, match=r"grpo\.steps"):
        load_config("demo", ["grpo.steps=many"])
    with pytest.raises(ConfigError, match=r"grpo\.reward_mode"):
        load_config("demo", ["grpo.reward_mode=best_of"])


def test_malformed_override_and_unknown_preset():
    with pytest.raises(ConfigError, match="key=value"):
        load_config("demo", ["grpo.lr"])
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config("nope")


def test_every_field_is_documented():
    def sections(model):
        yield model
        for field in model.model_fields.values():
            if isinstance(field.default, Config.__mro__[1]):
                yield from sections(type(field.default))

    for section in sections(Config):
        for name, field in section.model_fields.items():
            assert field.description, f"{section.__name__}.{name} has no docstring"


def test_resolved_config_round_trips(tmp_path):
    cfg = load_config("smoke", ["seed=7"])
    path = save_config(cfg, tmp_path / "config.json")
    assert Config.model_validate(json.loads(path.read_text())) == cfg
    assert flat_params(cfg)["seed"] == "7" and "grpo.token_weight" in flat_params(cfg)


@pytest.mark.parametrize("key", ["grpo.nproc", "discriminator.nproc"])
def test_a_process_count_below_one_is_rejected(key):
    assert load_config("demo", [f"{key}=2"]).model_dump()[key.split(".")[0]]["nproc"] == 2
    for bad in ("0", "-1"):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config("demo", [f"{key}={bad}"])
