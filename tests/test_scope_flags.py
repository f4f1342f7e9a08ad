"""SCoPe's flag spellings on a toy parser: underscores, extra spellings, compatibility flags."""

import pytest

from scope_assets.cli.scope_flags import (
    COMPAT,
    ScopeArgumentParser,
    add_create_script_scope_flags,
    add_run_inference_scope_flags,
)


def _parser() -> ScopeArgumentParser:
    parser = ScopeArgumentParser(prog="toy", epilog="Own epilog.")
    parser.add_argument("--field", required=True)
    parser.add_argument("--algorithm", choices=["xgb", "dnn"], default="dnn")
    parser.add_argument("--scale-features", default="min_max")
    parser.add_argument("--write-csv", action="store_true")
    parser.add_argument("--flag-ids", dest="flag_ids", action="store_true", default=True)
    parser.add_argument("--no-flag-ids", dest="flag_ids", action="store_false")
    parser.add_argument("--paths-models", nargs="+")
    parser.add_argument("--training-set")
    parser.add_argument("rest", nargs="*")
    add_run_inference_scope_flags(parser)
    return parser


def test_underscore_spellings_parse_like_the_hyphenated_flags():
    args = _parser().parse_args(
        [
            "--field",
            "297",
            "--scale_features",
            "none",
            "--write_csv",
            "--no_flag_ids",
            "--paths_models",
            "a.json",
            "b.json",
        ]
    )
    assert (args.scale_features, args.write_csv, args.flag_ids) == ("none", True, False)
    assert args.paths_models == ["a.json", "b.json"]
    assert _parser().parse_args(["--field", "1", "--scale_features=median_std"]).scale_features == (
        "median_std"
    )


def test_prefixes_stay_unambiguous_and_unknown_flags_still_fail(capsys):
    assert _parser().parse_args(["--field", "1", "--scale", "none"]).scale_features == "none"
    with pytest.raises(SystemExit):
        _parser().parse_args(["--field", "1", "--no_such_flag"])
    assert "--no_such_flag" in capsys.readouterr().err


def test_arguments_after_double_dash_are_left_alone():
    args = _parser().parse_args(["--field", "1", "--", "--write_csv"])
    assert args.rest == ["--write_csv"] and not args.write_csv


def test_scope_only_flags():
    parser = _parser()
    assert parser.parse_args(["--field", "1"]).algorithm == "dnn"
    args = parser.parse_args(
        [
            "--field",
            "1",
            "--xgb-model",
            "--doCPU",
            "--period-suffix",
            "ELS_ECE_EAOV",
            "--trainingSet",
            "ts.parquet",
            "--feature-file-prefix",
            "gen",
            "--no-write-metadata",
        ]
    )
    assert (args.algorithm, args.doCPU, args.period_suffix) == ("xgb", True, "ELS_ECE_EAOV")
    assert (args.training_set, args.feature_file_prefix, args.write_metadata) == (
        "ts.parquet",
        "gen",
        False,
    )
    args = parser.parse_args(["--field", "1", "--xgb_model", "--no_write_metadata"])
    assert args.algorithm == "xgb" and args.write_metadata is False
    defaults = parser.parse_args(["--field", "1"])
    assert (defaults.feature_file_prefix, defaults.write_metadata, defaults.doCPU) == (
        "gen_features",
        True,
        False,
    )


def test_help_marks_compatibility_flags_and_names_the_spellings():
    text = " ".join(_parser().format_help().split())
    assert f"--doCPU {COMPAT}" in text and f"--xgb-model {COMPAT}" in text
    assert "--period-suffix PERIOD_SUFFIX period suffix" in text  # a real flag, not marked
    assert "Own epilog." in text
    assert "underscore spellings are accepted for every hyphenated flag" in text
    assert "Also accepted: --trainingSet for --training-set." in text
    assert "--scale_features" not in text and "--write_csv" not in text  # each flag once


def test_spellings_need_a_known_flag():
    parser = _parser()
    with pytest.raises(ValueError, match="no flag --nope"):
        parser.add_scope_spelling("--Nope", "--nope")
    with pytest.raises(ValueError, match="--write-csv is already a flag"):
        parser.add_scope_spelling("--write-csv", "--scale-features")


def test_create_script_accepts_period_suffix():
    parser = ScopeArgumentParser(prog="create-inference-script")
    parser.add_argument("--filename", required=True)
    add_create_script_scope_flags(parser)
    args = parser.parse_args(["--filename", "s.sh", "--period_suffix", "ELS_ECE_EAOV"])
    assert args.period_suffix == "ELS_ECE_EAOV"
    assert parser.parse_args(["--filename", "s.sh"]).period_suffix is None
